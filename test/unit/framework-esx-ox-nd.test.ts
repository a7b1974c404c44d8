// The ESX, ox_core and ND_Core adapters against a fake FrameworkHost whose exports answer
// what the real ones send over msgpack (a Lua nil arrives as undefined, int map keys as
// strings, closures as callable references).
import { describe, expect, it, vi } from 'vitest';
import { esxAdapter } from '../../server/framework/esx';
import { ndAdapter } from '../../server/framework/nd';
import { oxAdapter } from '../../server/framework/ox';
import type { FrameworkAdapter, FrameworkHost } from '../../server/framework/types';

type Exports = Record<string, (...args: unknown[]) => unknown>;

function fakeHost(resources: Record<string, Exports>, state: Record<string, unknown> = {}) {
  const calls: [string, string, ...unknown[]][] = [];
  const host: FrameworkHost = {
    resourceState: (name) => (resources[name] ? 'started' : 'missing'),
    call(resource, name, ...args) {
      calls.push([resource, name, ...args]);
      const fn = resources[resource]?.[name];
      if (!fn) throw new Error(`No such export ${name} in resource ${resource}`);
      return fn(...args);
    },
    playerState: (player, key) => state[`${player}:${key}`],
  };
  return { host, calls };
}

const event = (adapter: FrameworkAdapter, name: string) => {
  const found = adapter.events.find((e) => e.event === name);
  if (!found) throw new Error(`no event ${name}`);
  return found;
};

// ---- ESX -------------------------------------------------------------------------------

const esxJob = {
  id: 2,
  name: 'police',
  label: 'LSPD',
  type: 'leo',
  onDuty: true,
  grade: 0,
  grade_name: 'recruit',
  grade_label: 'Recruit',
  grade_salary: 20,
  skin_male: [],
  skin_female: [],
};

/** RunStaticPlayerMethod as es_extended 1.13.5 answers it, for one loaded player 3. */
function esxStatic(xPlayer: {
  job?: unknown;
  variables?: Record<string, unknown>;
  items?: Record<string, unknown>;
  meta?: Record<string, unknown>;
}) {
  return (src: unknown, method: unknown, ...args: unknown[]) => {
    if (src !== 3) return undefined;
    switch (method) {
      case 'getJob':
        return xPlayer.job;
      case 'get':
        return xPlayer.variables?.[String(args[0])];
      case 'getInventoryItem':
        return xPlayer.items?.[String(args[0])];
      case 'getMeta':
        return args.length ? xPlayer.meta?.[String(args[0])] : (xPlayer.meta ?? []);
      default:
        throw new Error(
          `An error occurred while calling export \`RunStaticPlayerMethod\` in resource \`es_extended\`: Attempted to call invalid method on playerId ${src}: ${method}`,
        );
    }
  };
}

describe('ESX adapter', () => {
  it('reads name, job with type and duty, and isDead from the state bag', () => {
    const { host, calls } = fakeHost(
      {
        es_extended: {
          RunStaticPlayerMethod: esxStatic({
            job: esxJob,
            variables: { firstName: 'Ada', lastName: 'Lovelace' },
          }),
        },
      },
      { '3:isDead': true },
    );
    const adapter = esxAdapter(host);
    expect(adapter.name).toBe('esx');
    expect(adapter.resource).toBe('es_extended');
    expect(adapter.read(3)).toEqual({
      firstName: 'Ada',
      lastName: 'Lovelace',
      phone: null,
      job: { name: 'police', type: 'leo', onDuty: true },
      dead: true,
      lastStand: false,
      cuffed: false,
    });
    expect(calls).toEqual([
      ['es_extended', 'RunStaticPlayerMethod', 3, 'getJob'],
      ['es_extended', 'RunStaticPlayerMethod', 3, 'get', 'firstName'],
      ['es_extended', 'RunStaticPlayerMethod', 3, 'get', 'lastName'],
      ['es_extended', 'RunStaticPlayerMethod', 3, 'getMeta'],
    ]);
  });

  it("reads ND_Ambulance's metadata isDead too", () => {
    const { host } = fakeHost({
      es_extended: {
        RunStaticPlayerMethod: esxStatic({ job: esxJob, meta: { isDead: true, jobDuty: true } }),
      },
    });
    expect(esxAdapter(host).read(3)?.dead).toBe(true);
  });

  it('answers null while the player has no xPlayer (character menu)', () => {
    const { host } = fakeHost({ es_extended: { RunStaticPlayerMethod: esxStatic({}) } });
    expect(esxAdapter(host).read(4)).toBeNull();
    expect(esxAdapter(host).read(3)).toBeNull(); // loaded but no job table: not a character
  });

  it('reads every field defensively', () => {
    const { host } = fakeHost(
      {
        es_extended: {
          RunStaticPlayerMethod: esxStatic({
            job: { name: 7, type: [], onDuty: 'yes' },
            variables: { firstName: 12, lastName: '' },
          }),
        },
      },
      { '3:isDead': 1 },
    );
    expect(esxAdapter(host).read(3)).toEqual({
      firstName: null,
      lastName: null,
      phone: null,
      job: null,
      dead: false,
      lastStand: false,
      cuffed: false,
    });
    const older = fakeHost({
      es_extended: {
        RunStaticPlayerMethod: esxStatic({ job: { name: 'ambulance' }, variables: {} }),
      },
    });
    expect(esxAdapter(older.host).read(3)?.job).toEqual({
      name: 'ambulance',
      type: null,
      onDuty: null,
    });
  });

  it('lets a throwing export propagate', () => {
    const { host } = fakeHost({
      es_extended: {
        RunStaticPlayerMethod: () => {
          throw new Error('An error occurred while calling export `RunStaticPlayerMethod`');
        },
      },
    });
    const adapter = esxAdapter(host);
    expect(() => adapter.read(3)).toThrow(/An error occurred/);
    expect(() => adapter.itemCount?.(3, 'phone')).toThrow(/An error occurred/);
  });

  it('asks for RunStaticPlayerMethod again once es_extended answers after a stop', () => {
    const resources: Record<string, Exports> = {};
    const { host } = fakeHost(resources);
    const adapter = esxAdapter(host);
    // Stopped: every export is missing, the fallback's too; nothing is concluded from it.
    expect(() => adapter.read(3)).toThrow(/No such export getSharedObject/);
    resources.es_extended = {
      RunStaticPlayerMethod: esxStatic({ job: esxJob, variables: { firstName: 'Ada' } }),
      getSharedObject: () => {
        throw new Error('the shared object is not asked for');
      },
    };
    expect(adapter.read(3)?.firstName).toBe('Ada');
  });

  it('counts items through getInventoryItem (ESX inventory or its ox_inventory override)', () => {
    const { host } = fakeHost({
      es_extended: {
        RunStaticPlayerMethod: esxStatic({
          job: esxJob,
          items: { phone: { name: 'phone', count: 2, label: 'Phone' }, radio: { count: 'x' } },
        }),
      },
    });
    const adapter = esxAdapter(host);
    expect(adapter.itemCount?.(3, 'phone')).toBe(2);
    expect(adapter.itemCount?.(3, 'radio')).toBe(0);
    // No such item, or no such player: unknown, so the phoneItem gate lets the call through.
    expect(adapter.itemCount?.(3, 'none')).toBeNull();
    expect(adapter.itemCount?.(4, 'phone')).toBeNull();
  });

  it('falls back to getSharedObject().GetPlayerFromId where RunStaticPlayerMethod is missing', () => {
    const getInventoryItem = vi.fn((name: unknown) =>
      name === 'phone' ? { name: 'phone', count: 1 } : undefined,
    );
    const xPlayer = {
      source: 3,
      job: { ...esxJob, onDuty: false },
      variables: { firstName: 'Old', lastName: 'Timer' },
      metadata: { isDead: true },
      inventory: [{ name: 'phone', count: 1 }],
      getInventoryItem,
      getJob: () => esxJob,
    };
    const GetPlayerFromId = vi.fn((src: unknown) => (src === 3 ? xPlayer : undefined));
    const getSharedObject = vi.fn(() => ({ Players: {}, GetPlayerFromId }));
    const { host, calls } = fakeHost({ es_extended: { getSharedObject } });
    const adapter = esxAdapter(host);
    expect(adapter.read(3)).toMatchObject({
      firstName: 'Old',
      lastName: 'Timer',
      job: { name: 'police', type: 'leo', onDuty: false },
      dead: true,
    });
    expect(adapter.read(4)).toBeNull();
    expect(adapter.itemCount?.(3, 'phone')).toBe(1);
    expect(adapter.itemCount?.(3, 'radio')).toBeNull();
    // Asked for the export once, the shared object once; the reference is kept.
    expect(calls.map((c) => c[1])).toEqual(['RunStaticPlayerMethod', 'getSharedObject']);
    expect(getSharedObject).toHaveBeenCalledTimes(1);
    expect(GetPlayerFromId).toHaveBeenCalledTimes(4);

    // After es_extended restarts the kept reference fails: the error propagates, then both
    // the export and the shared object are asked for again.
    GetPlayerFromId.mockImplementationOnce(() => {
      throw new Error('Error in nested ref call for es_extended');
    });
    expect(() => adapter.read(3)).toThrow(/nested ref call/);
    expect(adapter.read(3)?.firstName).toBe('Old');
    expect(getSharedObject).toHaveBeenCalledTimes(2);
    expect(calls.filter((c) => c[1] === 'RunStaticPlayerMethod')).toHaveLength(2);
  });

  it('falls back to the inventory array of an old xPlayer without getInventoryItem', () => {
    const xPlayer = { job: esxJob, variables: {}, inventory: [{ name: 'phone', count: 4 }, 'x'] };
    const { host } = fakeHost({
      es_extended: { getSharedObject: () => ({ GetPlayerFromId: () => xPlayer }) },
    });
    expect(esxAdapter(host).itemCount?.(3, 'phone')).toBe(4);
    expect(esxAdapter(host).itemCount?.(3, 'radio')).toBeNull();
  });

  it('names its events with the player as first argument', () => {
    const adapter = esxAdapter(fakeHost({}).host);
    expect(adapter.events.map((e) => [e.event, e.unload ?? false])).toEqual([
      ['esx:playerLoaded', false],
      ['esx:setJob', false],
      ['esx:playerDropped', true],
      ['esx:playerLogout', true],
    ]);
    expect(event(adapter, 'esx:playerLoaded').player('', [3, {}, false])).toBe(3);
    expect(event(adapter, 'esx:setJob').player('', [5, esxJob, esxJob])).toBe(5);
    expect(event(adapter, 'esx:playerDropped').player('', ['7', 'left'])).toBe(7);
    expect(event(adapter, 'esx:playerLogout').player('', [8, null])).toBe(8);
    expect(event(adapter, 'esx:playerLoaded').player(3, [])).toBeNull();
    expect(event(adapter, 'esx:playerLoaded').player('', [1.5])).toBeNull();
    expect(event(adapter, 'esx:playerLoaded').player('', [-1])).toBeNull();
  });
});

// ---- ox_core ---------------------------------------------------------------------------

/** GetPlayer and CallPlayer as ox_core b45605e answers them. */
function oxExports(players: Record<number, { charId?: number; meta: Record<string, unknown> }>) {
  return {
    GetPlayer: (id: unknown) => {
      const p = players[id as number];
      // An OxPlayer instance crosses as its public fields; charId is nil before a character.
      return p
        ? {
            source: id,
            userId: 1,
            charId: p.charId ?? null,
            stateId: null,
            username: 'x',
            identifier: 'abc',
            ped: 0,
          }
        : undefined;
    },
    CallPlayer: (id: unknown, method: unknown, key: unknown) => {
      const p = players[id as number];
      if (!p || method !== 'get') return undefined; // logged by ox_core, answers nothing
      return p.meta[String(key)];
    },
  };
}

describe('ox_core adapter', () => {
  it('reads the character metadata and isDead', () => {
    const { host, calls } = fakeHost(
      {
        ox_core: oxExports({
          2: {
            charId: 9,
            meta: {
              firstName: 'Grace',
              lastName: 'Hopper',
              phoneNumber: '555-0101',
              activeGroup: 'police',
            },
          },
        }),
      },
      { '2:isDead': true },
    );
    const adapter = oxAdapter(host);
    expect(adapter.name).toBe('ox');
    expect(adapter.resource).toBe('ox_core');
    expect(adapter.read(2)).toEqual({
      firstName: 'Grace',
      lastName: 'Hopper',
      phone: '555-0101',
      job: { name: 'police', type: null, onDuty: null },
      dead: true,
      lastStand: false,
      cuffed: false,
    });
    expect(calls[0]).toEqual(['ox_core', 'GetPlayer', 2]);
    expect(calls.slice(1).map((c) => c.slice(1))).toEqual(
      expect.arrayContaining([
        ['CallPlayer', 2, 'get', 'firstName'],
        ['CallPlayer', 2, 'get', 'lastName'],
        ['CallPlayer', 2, 'get', 'phoneNumber'],
        ['CallPlayer', 2, 'get', 'activeGroup'],
      ]),
    );
    expect(adapter.itemCount?.(2, 'phone')).toBeNull();
  });

  it('answers null before a character is active, and for an unknown player', () => {
    const { host } = fakeHost({ ox_core: oxExports({ 2: { meta: {} } }) });
    expect(oxAdapter(host).read(2)).toBeNull();
    expect(oxAdapter(host).read(5)).toBeNull();
  });

  it('reads defensively: no group, numbers as phone, junk as null', () => {
    const { host } = fakeHost({
      ox_core: oxExports({
        2: { charId: 1, meta: { firstName: ['x'], lastName: null, phoneNumber: 5550101 } },
      }),
    });
    expect(oxAdapter(host).read(2)).toEqual({
      firstName: null,
      lastName: null,
      phone: '5550101',
      job: null,
      dead: false,
      lastStand: false,
      cuffed: false,
    });
  });

  it('lets a throwing export propagate', () => {
    const { host } = fakeHost({
      ox_core: {
        GetPlayer: () => {
          throw new Error('An error occurred while calling export `GetPlayer`');
        },
      },
    });
    expect(() => oxAdapter(host).read(2)).toThrow(/An error occurred/);
  });

  it('names its events with the player as first argument', () => {
    const adapter = oxAdapter(fakeHost({}).host);
    expect(adapter.events.map((e) => [e.event, e.unload ?? false])).toEqual([
      ['ox:playerLoaded', false],
      ['ox:setActiveGroup', false],
      ['ox:setGroup', false],
      ['ox:playerLogout', true],
    ]);
    expect(event(adapter, 'ox:playerLoaded').player('', [2, 1, 9])).toBe(2);
    expect(event(adapter, 'ox:setActiveGroup').player('', [2, 'police', null])).toBe(2);
    expect(event(adapter, 'ox:setGroup').player('', ['4', 'police', null])).toBe(4);
    expect(event(adapter, 'ox:playerLogout').player('', [2, 1, 9])).toBe(2);
    expect(event(adapter, 'ox:playerLoaded').player('', [{}])).toBeNull();
  });
});

// ---- ND_Core ---------------------------------------------------------------------------

const ndCharacter = (over: Record<string, unknown> = {}) => ({
  id: 4,
  source: 6,
  identifier: 'license:abc',
  name: 'player',
  firstname: 'Katherine',
  lastname: 'Johnson',
  fullname: 'Katherine Johnson',
  phonenumber: '555-0199',
  groups: { sahp: { name: 'sahp', label: 'SAHP', rank: 1, isJob: true } },
  job: 'sahp',
  jobInfo: { name: 'sahp', label: 'SAHP', rankName: 'Trooper', rank: 1, isJob: true },
  metadata: { dead: false },
  getData: () => undefined, // closures cross as function references
  ...over,
});

describe('ND_Core adapter', () => {
  it('reads the character table, metadata.dead and the isCuffed state bag', () => {
    const { host, calls } = fakeHost(
      {
        ND_Core: {
          getPlayer: (src) => (src === 6 ? ndCharacter({ metadata: { dead: true } }) : undefined),
        },
      },
      { '6:isCuffed': true },
    );
    const adapter = ndAdapter(host);
    expect(adapter.name).toBe('nd');
    expect(adapter.resource).toBe('ND_Core');
    expect(adapter.read(6)).toEqual({
      firstName: 'Katherine',
      lastName: 'Johnson',
      phone: '555-0199',
      job: { name: 'sahp', type: null, onDuty: null },
      dead: true,
      lastStand: false,
      cuffed: true,
    });
    expect(calls).toEqual([['ND_Core', 'getPlayer', 6]]);
    expect(adapter.read(7)).toBeNull();
    expect(adapter.itemCount?.(6, 'phone')).toBeNull();
  });

  it('reads defensively', () => {
    const { host } = fakeHost({
      ND_Core: {
        getPlayer: () =>
          ndCharacter({
            firstname: null,
            lastname: 3,
            phonenumber: undefined,
            job: undefined,
            jobInfo: { name: 'tow' },
            metadata: [],
          }),
      },
    });
    expect(ndAdapter(host).read(6)).toEqual({
      firstName: null,
      lastName: null,
      phone: null,
      job: { name: 'tow', type: null, onDuty: null },
      dead: false,
      lastStand: false,
      cuffed: false,
    });
    const none = fakeHost({
      ND_Core: { getPlayer: () => ndCharacter({ job: null, jobInfo: null, metadata: null }) },
    });
    expect(ndAdapter(none.host).read(6)?.job).toBeNull();
  });

  it('lets a throwing export propagate', () => {
    const { host } = fakeHost({
      ND_Core: {
        getPlayer: () => {
          throw new Error('An error occurred while calling export `getPlayer`');
        },
      },
    });
    expect(() => ndAdapter(host).read(6)).toThrow(/An error occurred/);
  });

  it('finds the player in the character table or the first argument', () => {
    const adapter = ndAdapter(fakeHost({}).host);
    expect(adapter.events.map((e) => [e.event, e.unload ?? false])).toEqual([
      ['ND:characterLoaded', false],
      ['ND:updateCharacter', false],
      ['ND:characterUnloaded', true],
    ]);
    expect(event(adapter, 'ND:characterLoaded').player('', [ndCharacter()])).toBe(6);
    expect(event(adapter, 'ND:updateCharacter').player('', [ndCharacter(), 'job'])).toBe(6);
    expect(event(adapter, 'ND:characterUnloaded').player('', [6, ndCharacter()])).toBe(6);
    expect(event(adapter, 'ND:characterLoaded').player('', [6])).toBeNull();
    expect(event(adapter, 'ND:updateCharacter').player('', [{ source: 'x' }, 'job'])).toBeNull();
  });
});
