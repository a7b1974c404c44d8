import { describe, expect, it } from 'vitest';
import { createCharacters } from '../../server/framework/characters';
import { chooseFramework } from '../../server/framework/detect';
import type { InventorySource } from '../../server/framework/inventories';
import type { PhoneSource } from '../../server/framework/phones';
import type { Character, FrameworkAdapter, FrameworkHost } from '../../server/framework/types';
import { alertSchema } from '../../shared/config/schema';

const person = (over: Partial<Character> = {}): Character => ({
  firstName: 'Ann',
  lastName: 'Smith',
  phone: null,
  job: null,
  dead: false,
  lastStand: false,
  cuffed: false,
  ...over,
});

/** A framework whose answers the test sets per player; `broken` makes every read throw. */
function world(over: { players?: number[]; states?: Record<string, string> } = {}) {
  const data = new Map<number, Character | null>();
  const lines: string[] = [];
  let broken = false;
  let reads = 0;
  const adapter: FrameworkAdapter = {
    name: 'qbx',
    resource: 'qbx_core',
    read(player) {
      reads++;
      if (broken) throw new Error('No such export GetPlayer in resource qbx_core');
      const c = data.get(player);
      return c ? { ...c, job: c.job ? { ...c.job } : null } : null;
    },
    events: [
      { event: 'loaded', player: (_s, args) => Number(args[0]) },
      { event: 'unloaded', player: (s) => Number(s), unload: true },
    ],
  };
  const states = over.states ?? {};
  const host: FrameworkHost = {
    resourceState: (r) => states[r] ?? 'started',
    call: () => undefined,
    playerState: () => undefined,
  };
  const players = over.players ?? [1, 2, 3, 4];
  const clock = 0;
  const log = {
    info: (m: string) => lines.push(m),
    warn: (m: string) => lines.push(m),
    error: () => {},
  };
  const make = (sources: { phone?: PhoneSource; inventory?: InventorySource } = {}) =>
    createCharacters({
      host,
      adapter,
      phone: sources.phone ?? null,
      inventory: sources.inventory ?? null,
      players: () => players,
      aceAllowed: (p, ace) => ace === 'sonoran911.responder' && p === 4,
      // Synchronous here: a burst of events is one read either way.
      defer: (fn) => fn(),
      now: () => clock,
      log,
    });
  return {
    data,
    lines,
    make,
    players,
    reads: () => reads,
    break: (b: boolean) => {
      broken = b;
    },
  };
}

const police = (onDuty: boolean | null, type: string | null = 'leo') => ({
  name: 'police',
  type,
  onDuty,
});

describe('characters', () => {
  it('alerts by job name or type, on duty only, plus players with the ACE, never the caller', () => {
    const w = world();
    w.data.set(1, person({ job: police(true) }));
    w.data.set(2, person({ job: police(false) }));
    w.data.set(3, person({ job: { name: 'sheriff', type: 'leo', onDuty: true } }));
    const c = w.make();
    c.sweep();
    const alert = alertSchema.parse({
      jobs: ['police'],
      types: ['leo'],
      ace: 'sonoran911.responder',
    });
    expect(c.responders(alert, null)).toEqual([1, 3, 4]);
    expect(c.responders(alert, 3)).toEqual([1, 4]);
    expect(c.responders({ ...alert, onDutyOnly: false, ace: null }, null)).toEqual([1, 2, 3]);
    expect(c.responders(alertSchema.parse({ jobs: ['ambulance'] }), null)).toEqual([]);
  });

  it('counts a job as on duty where the framework has no duty flag', () => {
    const w = world();
    w.data.set(1, person({ job: police(null, null) }));
    const c = w.make();
    c.sweep();
    expect(c.responders(alertSchema.parse({ jobs: ['police'] }), null)).toEqual([1]);
  });

  it('follows the framework events: a load reads the player, an unload forgets them', () => {
    const w = world();
    const c = w.make();
    w.data.set(2, person({ job: police(true) }));
    c.event('loaded', '', [2]);
    expect(c.cached(2)?.job?.name).toBe('police');
    c.event('unloaded', 2, []);
    expect(c.cached(2)).toBeNull();
    // A malformed event never throws and reads nobody.
    c.event('loaded', '', [{}]);
    expect(c.cached(2)).toBeNull();
  });

  it('keeps what it knew when the framework fails, says so once, and says when it answers again', () => {
    const w = world();
    w.data.set(1, person({ firstName: 'Bea' }));
    const c = w.make();
    expect(c.caller(1)?.firstName).toBe('Bea');
    w.break(true);
    expect(c.caller(1)?.firstName).toBe('Bea');
    expect(c.caller(2)).toBeNull();
    c.sweep();
    expect(w.lines.filter((l) => /failed/.test(l))).toHaveLength(1);
    expect(w.lines[0]).toMatch(/framework qbx \(qbx_core\) failed \(No such export GetPlayer/);
    w.break(false);
    c.caller(1);
    expect(w.lines.at(-1)).toMatch(/answers again/);
  });

  it('treats a stopped framework as failing without calling it', () => {
    const w = world({ states: { qbx_core: 'stopped' } });
    w.data.set(1, person());
    expect(w.make().caller(1)).toBeNull();
    expect(w.reads()).toBe(0);
    expect(w.lines[0]).toMatch(/qbx_core is stopped/);
  });

  it('asks the phone resource when the framework has no number; an async answer counts next time', async () => {
    const w = world();
    w.data.set(1, person());
    let answer: (n: string | null) => void = () => {};
    let asked = 0;
    const phone: PhoneSource = {
      resource: 'npwd',
      number: () => {
        asked++;
        return new Promise((resolve) => {
          answer = resolve;
        });
      },
    };
    const c = w.make({ phone });
    expect(c.caller(1)?.phone).toBeNull();
    c.caller(1);
    expect(asked).toBe(1);
    answer('555-0199');
    await Promise.resolve();
    expect(c.caller(1)?.phone).toBe('555-0199');
  });

  it('counts items through the inventory, and answers null (let through) when it throws', () => {
    const w = world();
    let broken = false;
    const inventory: InventorySource = {
      resource: 'ox_inventory',
      count: (_h, _p, item) => {
        if (broken) throw new Error('boom');
        return item === 'radio' ? 1 : 0;
      },
    };
    const c = w.make({ inventory });
    expect(c.itemCount(1, ['phone'])).toBe(0);
    expect(c.itemCount(1, ['phone', 'radio'])).toBe(1);
    broken = true;
    expect(c.itemCount(1, ['phone'])).toBeNull();
    expect(w.lines).toEqual([expect.stringMatching(/inventory ox_inventory failed \(boom\)/)]);
  });
});

describe('characters, what cannot be trusted', () => {
  it('reads a character name as one plain line: no planted callback line or markup', () => {
    const w = world();
    w.data.set(1, person({ firstName: 'John\nCallback: 555-0000\n<b>x</b>', phone: '555\n1' }));
    const c = w.make().caller(1);
    expect(c?.firstName).not.toMatch(/\n|<b>/);
    expect(c?.phone).toBeNull();
  });

  it('forgets an async number when the character changes', async () => {
    const w = world();
    w.data.set(1, person());
    let number = '555-0001';
    const phone: PhoneSource = { resource: 'npwd', number: async () => number };
    const c = w.make({ phone });
    c.caller(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(c.caller(1)?.phone).toBe('555-0001');
    number = '555-0002';
    c.event('unloaded', 1, []);
    c.event('loaded', '', [1]);
    await Promise.resolve();
    await Promise.resolve();
    expect(c.caller(1)?.phone).toBe('555-0002');
  });

  it('reads a player once for a burst of events, and not at all without a framework or phone', () => {
    const w = world();
    const deferred: (() => void)[] = [];
    const c = createCharacters({
      host: { resourceState: () => 'started', call: () => undefined, playerState: () => undefined },
      adapter: {
        name: 'qb',
        resource: 'qb-core',
        read: (player) => {
          reads.push(player);
          return person();
        },
        events: [{ event: 'update', player: (_s, args) => Number(args[0]) }],
      },
      phone: null,
      inventory: null,
      players: () => w.players,
      aceAllowed: () => false,
      defer: (fn) => deferred.push(fn),
      now: () => 0,
      log: { info: () => {}, warn: () => {}, error: () => {} },
    });
    const reads: number[] = [];
    for (let i = 0; i < 3; i++) c.event('update', '', [2]);
    expect(deferred).toHaveLength(1);
    deferred[0]!();
    expect(reads).toEqual([2]);
    const bare = w.make();
    bare.use({ adapter: null, phone: null, inventory: null });
    bare.sweep();
    expect(w.reads()).toBe(0);
  });
});

describe('chooseFramework', () => {
  const states =
    (started: string[]) =>
    (r: string): string =>
      started.includes(r) ? 'started' : 'missing';

  it('picks Qbox on a Qbox server although qb-core reads as started (provide)', () => {
    expect(chooseFramework('auto', states(['qbx_core', 'qb-core'])).name).toBe('qbx');
    expect(chooseFramework('auto', states(['qb-core'])).name).toBe('qb');
    expect(chooseFramework('auto', states(['es_extended'])).how).toBe(
      'detected: es_extended is started',
    );
    expect(chooseFramework('auto', states([]))).toEqual({
      name: null,
      how: 'standalone: none of them is started',
    });
  });

  it('uses a configured framework even before it starts, and none when told', () => {
    expect(chooseFramework('ox', states([]))).toEqual({
      name: 'ox',
      how: 'set in config.json; ox_core is missing for now',
    });
    expect(chooseFramework('none', states(['qbx_core'])).name).toBeNull();
  });
});
