import { describe, expect, it, vi } from 'vitest';
import { qbAdapter } from '../../server/framework/qb';
import { qbxAdapter } from '../../server/framework/qbx';
import type { FrameworkAdapter, FrameworkHost } from '../../server/framework/types';

/**
 * Answers shaped as GetPlayer's come out of msgpack into JS: PlayerData as plain data,
 * Functions (and on QBCore each method at the top level too) as callable references,
 * vectors as ExtBuffers, empty Lua tables as [] and integer-keyed tables as arrays.
 */
const ref = () => vi.fn(() => undefined);

function playerData(overrides: Record<string, unknown> = {}) {
  return {
    source: 7,
    citizenid: 'ABC12345',
    license: 'license:abc',
    name: 'Jo',
    cid: 1,
    money: { cash: 500, bank: 5000, crypto: 0 },
    charinfo: {
      firstname: 'Jo',
      lastname: 'Blake',
      birthdate: '1990-01-01',
      gender: 0,
      nationality: 'USA',
      phone: '5551234567',
      account: 'US01QBX123',
      cid: 1,
    },
    job: {
      name: 'police',
      label: 'Law Enforcement',
      type: 'leo',
      onduty: true,
      payment: 50,
      isboss: false,
      bankAuth: false,
      grade: { name: 'Officer', level: 1 },
    },
    gang: { name: 'none', label: 'No Gang', isboss: false, grade: { name: 'none', level: 0 } },
    metadata: {
      isdead: false,
      inlaststand: false,
      ishandcuffed: false,
      hunger: 100,
      thirst: 100,
      stress: 0,
      jailitems: [],
      status: [],
      licences: { id: true, driver: true, weapon: false },
    },
    position: { buffer: new ArrayBuffer(16), type: 22 },
    items: [],
    ...overrides,
  };
}

function qbxPlayer(data = playerData()) {
  return {
    PlayerData: data,
    Offline: false,
    Functions: { SetMetaData: ref(), GetMetaData: ref(), SetJob: ref(), Save: ref() },
  };
}

function qbPlayer(data = playerData()) {
  const methods = { SetMetaData: ref(), GetMetaData: ref(), SetJob: ref(), GetName: ref() };
  return { ...methods, PlayerData: data, Functions: methods };
}

interface FakeHost extends FrameworkHost {
  call: ReturnType<typeof vi.fn<FrameworkHost['call']>>;
}

function fakeHost(
  exports: Record<string, Record<string, (...args: unknown[]) => unknown>>,
  state: Record<number, Record<string, unknown>> = {},
  started: string[] = Object.keys(exports),
): FakeHost {
  return {
    resourceState: (name) => (started.includes(name) ? 'started' : 'missing'),
    call: vi.fn((resource: string, name: string, ...args: unknown[]) => {
      const fn = exports[resource]?.[name];
      if (!fn) throw new Error(`No such export ${name} in resource ${resource}`);
      return fn(...args);
    }),
    playerState: (player, key) => state[player]?.[key],
  };
}

const officer = {
  firstName: 'Jo',
  lastName: 'Blake',
  phone: '5551234567',
  job: { name: 'police', type: 'leo', onDuty: true },
  dead: false,
  lastStand: false,
  cuffed: false,
};

function eventOf(adapter: FrameworkAdapter, name: string) {
  const event = adapter.events.find((e) => e.event === name);
  if (!event) throw new Error(`no ${name}`);
  return event;
}

describe('Qbox adapter', () => {
  it('reads the character through exports.qbx_core:GetPlayer(src)', () => {
    const host = fakeHost({ qbx_core: { GetPlayer: (src) => (src === 7 ? qbxPlayer() : null) } });
    const adapter = qbxAdapter(host);
    expect(adapter.name).toBe('qbx');
    expect(adapter.resource).toBe('qbx_core');
    expect(adapter.read(7)).toEqual(officer);
    expect(host.call).toHaveBeenCalledWith('qbx_core', 'GetPlayer', 7);
  });

  it('answers null while no character is loaded', () => {
    const host = fakeHost({ qbx_core: { GetPlayer: () => null } });
    expect(qbxAdapter(host).read(3)).toBeNull();
    expect(qbxAdapter(fakeHost({ qbx_core: { GetPlayer: () => undefined } })).read(3)).toBeNull();
    expect(qbxAdapter(fakeHost({ qbx_core: { GetPlayer: () => ({}) } })).read(3)).toBeNull();
    expect(qbxAdapter(fakeHost({ qbx_core: { GetPlayer: () => 'x' } })).read(3)).toBeNull();
  });

  it('lets a throwing export propagate', () => {
    const host = fakeHost({
      qbx_core: {
        GetPlayer: () => {
          throw new Error('An error occurred while calling export GetPlayer');
        },
      },
    });
    expect(() => qbxAdapter(host).read(7)).toThrow(/GetPlayer/);
    expect(() => qbxAdapter(fakeHost({})).read(7)).toThrow(/No such export/);
  });

  it('reads the flags the medical and police resources set in the metadata', () => {
    const data = playerData();
    data.metadata = { ...data.metadata, isdead: true, ishandcuffed: true };
    const host = fakeHost({ qbx_core: { GetPlayer: () => qbxPlayer(data) } });
    expect(qbxAdapter(host).read(7)).toMatchObject({ dead: true, lastStand: false, cuffed: true });
  });

  it("reads qbx_medical's death state bag before the metadata follows", () => {
    const get = { qbx_core: { GetPlayer: () => qbxPlayer() } };
    const dead = fakeHost(get, { 7: { 'qbx_medical:deathState': 3, isDead: true } });
    expect(qbxAdapter(dead).read(7)).toMatchObject({ dead: true, lastStand: false });
    const down = fakeHost(get, { 7: { 'qbx_medical:deathState': 2, isDead: true } });
    expect(qbxAdapter(down).read(7)).toMatchObject({ dead: false, lastStand: true });
    const alive = fakeHost(get, { 7: { 'qbx_medical:deathState': 1, isDead: false } });
    expect(qbxAdapter(alive).read(7)).toMatchObject({ dead: false, lastStand: false });
    // isDead alone (another medical resource) counts as dead.
    const other = fakeHost(get, { 7: { isDead: true } });
    expect(qbxAdapter(other).read(7)).toMatchObject({ dead: true });
  });

  it('has no inventory of its own (ox_inventory is asked instead)', () => {
    const host = fakeHost({ qbx_core: { GetPlayer: () => qbxPlayer() } });
    expect(qbxAdapter(host).itemCount).toBeUndefined();
  });

  it('names the player of each event from its arguments', () => {
    const adapter = qbxAdapter(fakeHost({}));
    expect(eventOf(adapter, 'QBCore:Server:PlayerLoaded').player('', [qbxPlayer()])).toBe(7);
    expect(eventOf(adapter, 'QBCore:Server:OnPlayerUnload').player('', [7])).toBe(7);
    expect(eventOf(adapter, 'QBCore:Server:OnPlayerUnload').unload).toBe(true);
    expect(eventOf(adapter, 'QBCore:Server:OnJobUpdate').player('', [7, {}])).toBe(7);
    expect(eventOf(adapter, 'QBCore:Server:SetDuty').player('', [7, true])).toBe(7);
    expect(eventOf(adapter, 'QBCore:Player:SetPlayerData').player('', [playerData()])).toBe(7);
    const meta = eventOf(adapter, 'qbx_core:server:onSetMetaData');
    expect(meta.player('', ['isdead', false, true, 7])).toBe(7);
    expect(eventOf(adapter, 'qbx_core:server:onGroupUpdate').player('', [7, 'police'])).toBe(7);
    const out = eventOf(adapter, 'qbx_core:server:playerLoggedOut');
    expect(out.player('', [7])).toBe(7);
    expect(out.unload).toBe(true);
    for (const e of adapter.events) expect(e.player('', [])).toBeNull();
  });
});

describe('QBCore adapter', () => {
  it("reads the character through exports['qb-core']:GetPlayer(src)", () => {
    const host = fakeHost({ 'qb-core': { GetPlayer: (src) => (src === 7 ? qbPlayer() : null) } });
    const adapter = qbAdapter(host);
    expect(adapter.name).toBe('qb');
    expect(adapter.resource).toBe('qb-core');
    expect(adapter.read(7)).toEqual(officer);
    expect(adapter.read(8)).toBeNull();
    expect(host.call).toHaveBeenCalledWith('qb-core', 'GetPlayer', 7);
  });

  it('reads every field defensively', () => {
    const data = playerData({
      charinfo: { firstname: '  Jo ', lastname: '', phone: 5551234567 },
      job: { name: 'unemployed', label: 'Civilian', type: 'none', grade: { level: 0 } },
      metadata: { isdead: 'yes', inlaststand: 1, ishandcuffed: true },
    });
    const host = fakeHost({ 'qb-core': { GetPlayer: () => qbPlayer(data) } });
    expect(qbAdapter(host).read(7)).toEqual({
      firstName: 'Jo',
      lastName: null,
      phone: '5551234567',
      job: { name: 'unemployed', type: null, onDuty: false },
      dead: false,
      lastStand: false,
      cuffed: true,
    });
  });

  it('survives missing or mistyped tables (an empty Lua table arrives as [])', () => {
    const data = playerData({ charinfo: [], job: 'police', metadata: [] });
    const host = fakeHost({ 'qb-core': { GetPlayer: () => qbPlayer(data) } });
    expect(qbAdapter(host).read(7)).toEqual({
      firstName: null,
      lastName: null,
      phone: null,
      job: null,
      dead: false,
      lastStand: false,
      cuffed: false,
    });
    const bare = fakeHost({ 'qb-core': { GetPlayer: () => ({ PlayerData: { source: 7 } }) } });
    expect(qbAdapter(bare).read(7)).toMatchObject({ firstName: null, job: null, dead: false });
    const arrayData = fakeHost({ 'qb-core': { GetPlayer: () => ({ PlayerData: [] }) } });
    expect(qbAdapter(arrayData).read(7)).toBeNull();
  });

  it('ignores state bags: qb-ambulancejob keeps death in the metadata only', () => {
    const host = fakeHost(
      { 'qb-core': { GetPlayer: () => qbPlayer() } },
      { 7: { isDead: true, 'qbx_medical:deathState': 3 } },
    );
    expect(qbAdapter(host).read(7)).toMatchObject({ dead: false, lastStand: false });
  });

  it('lets a throwing export propagate', () => {
    const host = fakeHost({
      'qb-core': {
        GetPlayer: () => {
          throw new Error('boom');
        },
      },
    });
    expect(() => qbAdapter(host).read(7)).toThrow('boom');
  });

  it('names the player of each event from its arguments', () => {
    const adapter = qbAdapter(fakeHost({}));
    const loaded = eventOf(adapter, 'QBCore:Server:PlayerLoaded');
    // qb-core passes its Player instance: own fields only cross (PlayerData, Offline, Functions).
    expect(loaded.player('', [{ PlayerData: playerData(), Offline: false, Functions: {} }])).toBe(
      7,
    );
    expect(loaded.player('', [{ PlayerData: { source: '7' } }])).toBe(7);
    expect(loaded.player('', [{ PlayerData: { source: -1 } }])).toBeNull();
    const updated = eventOf(adapter, 'QBCore:Server:OnPlayerUpdated');
    expect(updated.player('', [7, 'metadata', {}])).toBe(7);
    expect(eventOf(adapter, 'QBCore:Server:OnJobUpdate').player('', [7, {}])).toBe(7);
    expect(eventOf(adapter, 'QBCore:Server:SetDuty').player('', [7, false])).toBe(7);
    expect(eventOf(adapter, 'QBCore:Player:SetPlayerData').player('', [playerData()])).toBe(7);
    for (const name of ['QBCore:Server:OnPlayerUnload', 'QBCore:Server:PlayerDropped']) {
      const e = eventOf(adapter, name);
      expect(e.player('', [7])).toBe(7);
      expect(e.unload).toBe(true);
    }
    expect(adapter.events.some((e) => e.event.startsWith('qbx_core:'))).toBe(false);
    for (const e of adapter.events) expect(e.player('', [null, 'x'])).toBeNull();
  });
});
