// The Qbox and QBCore stand-ins (Lua, in the emulator) read back through the adapters.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FxServer, type Player } from '../../sandbox/emulator/index';
import { qbInventoryStandIn, qbStandIn } from '../../sandbox/frameworks/qb';
import { qbxStandIn } from '../../sandbox/frameworks/qbx';
import { startedInventory } from '../../server/framework/inventories';
import { qbAdapter } from '../../server/framework/qb';
import { qbxAdapter } from '../../server/framework/qbx';
import type { FrameworkAdapter, FrameworkHost } from '../../server/framework/types';

/** The adapter's world, answered by the emulator as a server resource would see it. */
function emulatorHost(fx: FxServer): FrameworkHost {
  return {
    resourceState: (name) => fx.resourceState(name),
    call: (resource, name, ...args) =>
      fx.exportsOf<Record<string, (...a: unknown[]) => unknown>>(resource)[name]!(...args),
    playerState: (player, key) => fx.playerState(player, key),
  };
}

interface Heard {
  event: string;
  source: unknown;
  args: unknown[];
}

/** A JS resource listening to the adapter's events, as ours will. */
function listen(fx: FxServer, adapter: FrameworkAdapter): () => Heard[] {
  const names = JSON.stringify(adapter.events.map((e) => e.event));
  fx.startResource('listener', {
    server: `
      const heard = [];
      for (const event of ${names}) {
        on(event, (...args) => { heard.push(JSON.stringify({ event, source, args })); });
      }
      exports('heard', () => heard.splice(0));
    `,
  });
  return () =>
    (fx.exportsOf<{ heard: () => string[] }>('listener').heard() ?? []).map(
      (line) => JSON.parse(line) as Heard,
    );
}

/** Each heard event with the player the adapter names from it. */
function named(adapter: FrameworkAdapter, heard: Heard[]) {
  return heard.map((h) => {
    const spec = adapter.events.find((e) => e.event === h.event)!;
    return { event: h.event, player: spec.player(h.source, h.args), unload: spec.unload ?? false };
  });
}

let fx: FxServer;
let player: Player;
beforeEach(() => {
  fx = new FxServer();
  player = fx.addPlayer({ name: 'jo', identifiers: ['license:abc123'], position: [1, 2, 3] });
});
afterEach(() => fx.shutdown());

const jo = { firstName: 'Jo', lastName: 'Blake', phone: '5551234567' };

describe('Qbox stand-in through the qbx adapter', () => {
  it('logs a character in and reads it back; events name the player', async () => {
    await qbxStandIn.start(fx);
    const adapter = qbxAdapter(emulatorHost(fx));
    const heard = listen(fx, adapter);

    expect(adapter.read(player.id)).toBeNull();
    await qbxStandIn.login(fx, player, { ...jo, job: { name: 'police', type: 'leo', grade: 1 } });
    expect(adapter.read(player.id)).toEqual({
      ...jo,
      job: { name: 'police', type: 'leo', onDuty: true },
      dead: false,
      lastStand: false,
      cuffed: false,
    });
    const loaded = heard();
    const playerLoaded = loaded.find((h) => h.event === 'QBCore:Server:PlayerLoaded')!;
    // The player object itself: PlayerData and Functions (references, dropped by JSON here).
    expect(playerLoaded.args).toHaveLength(1);
    expect(playerLoaded.args[0]).toMatchObject({
      PlayerData: { source: player.id, charinfo: { firstname: 'Jo' } },
      Offline: false,
      Functions: {},
    });
    expect(named(adapter, loaded)).toContainEqual({
      event: 'QBCore:Server:PlayerLoaded',
      player: player.id,
      unload: false,
    });
    expect(fx.playerState(player.id, 'loadInventory')).toBe(true);

    await qbxStandIn.setDuty(fx, player, false);
    expect(adapter.read(player.id)?.job).toEqual({ name: 'police', type: 'leo', onDuty: false });
    const duty = heard();
    expect(duty.find((h) => h.event === 'QBCore:Server:SetDuty')?.args).toEqual([player.id, false]);

    await qbxStandIn.setJob(fx, player, { name: 'ambulance', type: 'ems' });
    expect(adapter.read(player.id)?.job).toEqual({ name: 'ambulance', type: 'ems', onDuty: true });
    const job = heard().find((h) => h.event === 'QBCore:Server:OnJobUpdate')!;
    expect(job.args).toMatchObject([player.id, { name: 'ambulance', type: 'ems', onduty: true }]);

    expect(named(adapter, [...duty, job]).every((e) => e.player === player.id)).toBe(true);
    expect(fx.errors).toEqual([]);
  });

  it('follows qbx_medical and qbx_police: metadata, state bags and onSetMetaData', async () => {
    await qbxStandIn.start(fx);
    const adapter = qbxAdapter(emulatorHost(fx));
    await qbxStandIn.login(fx, player, jo);
    const heard = listen(fx, adapter);

    await qbxStandIn.setLastStand(fx, player, true);
    expect(adapter.read(player.id)).toMatchObject({ dead: false, lastStand: true });
    expect(fx.playerState(player.id, 'qbx_medical:deathState')).toBe(2);
    expect(fx.playerState(player.id, 'isDead')).toBe(true);
    const meta = heard().filter((h) => h.event === 'qbx_core:server:onSetMetaData');
    expect(meta.map((h) => h.args)).toEqual([
      ['isdead', false, false, player.id],
      ['inlaststand', false, true, player.id],
    ]);
    expect(named(adapter, meta).every((e) => e.player === player.id)).toBe(true);

    await qbxStandIn.setDead(fx, player, true);
    expect(adapter.read(player.id)).toMatchObject({ dead: true, lastStand: false });
    await qbxStandIn.setDead(fx, player, false);
    expect(adapter.read(player.id)).toMatchObject({ dead: false, lastStand: false });
    expect(fx.playerState(player.id, 'isDead')).toBe(false);

    heard();
    await qbxStandIn.setCuffed(fx, player, true);
    expect(adapter.read(player.id)?.cuffed).toBe(true);
    expect(fx.playerState(player.id, 'invBusy')).toBe(true);
    expect(heard().find((h) => h.event === 'qbx_core:server:onSetMetaData')?.args).toEqual([
      'ishandcuffed',
      false,
      true,
      player.id,
    ]);
    expect(fx.errors).toEqual([]);
  });

  it('logs out through OnPlayerUnload and playerLoggedOut; a broken core makes read() throw', async () => {
    await qbxStandIn.start(fx);
    const adapter = qbxAdapter(emulatorHost(fx));
    await qbxStandIn.login(fx, player, jo);
    const heard = listen(fx, adapter);
    await qbxStandIn.logout(fx, player);
    expect(adapter.read(player.id)).toBeNull();
    expect(named(adapter, heard())).toEqual([
      { event: 'QBCore:Server:OnPlayerUnload', player: player.id, unload: true },
      { event: 'qbx_core:server:playerLoggedOut', player: player.id, unload: true },
    ]);

    await qbxStandIn.login(fx, player, jo);
    expect(adapter.read(player.id)?.firstName).toBe('Jo');
    await qbxStandIn.breakExports(fx);
    expect(() => adapter.read(player.id)).toThrow(/GetPlayer/);
  });

  it("provides qb-core to GetResourceState, but not exports['qb-core'].GetPlayer", async () => {
    await qbxStandIn.start(fx);
    fx.startResource('probe', {
      server: `RegisterCommand('st', () => console.log(GetResourceState('qb-core')), true);`,
    });
    expect(fx.console('st')).toEqual(['started']);
    await qbxStandIn.login(fx, player, jo);
    // The qb adapter on a Qbox server: qb-core's GetPlayer does not exist there.
    expect(() => qbAdapter(emulatorHost(fx)).read(player.id)).toThrow(/No such export/);
    const core = fx.exportsOf<{ GetCoreObject: () => unknown }>('qb-core').GetCoreObject();
    expect(core).toMatchObject({ Functions: {} });
  });
});

describe('QBCore stand-in through the qb adapter', () => {
  it('logs a character in and reads it back; events name the player', async () => {
    await qbInventoryStandIn.start(fx);
    await qbStandIn.start(fx);
    const adapter = qbAdapter(emulatorHost(fx));
    const heard = listen(fx, adapter);

    expect(adapter.read(player.id)).toBeNull();
    await qbStandIn.login(fx, player, { ...jo, job: { name: 'police', grade: 1 } });
    expect(adapter.read(player.id)).toEqual({
      ...jo,
      job: { name: 'police', type: 'leo', onDuty: true },
      dead: false,
      lastStand: false,
      cuffed: false,
    });
    const loaded = heard();
    const playerLoaded = loaded.find((h) => h.event === 'QBCore:Server:PlayerLoaded')!;
    // qb-core's Player instance: its metatable's methods stay behind, own fields cross.
    expect(Object.keys(playerLoaded.args[0] as object).sort()).toEqual([
      'Functions',
      'Offline',
      'PlayerData',
    ]);
    expect(named(adapter, loaded)).toEqual(
      expect.arrayContaining([
        { event: 'QBCore:Server:PlayerLoaded', player: player.id, unload: false },
        { event: 'QBCore:Player:SetPlayerData', player: player.id, unload: false },
        { event: 'QBCore:Server:OnPlayerUpdated', player: player.id, unload: false },
        { event: 'QBCore:Server:OnJobUpdate', player: player.id, unload: false },
      ]),
    );

    await qbStandIn.setDuty(fx, player, false);
    expect(adapter.read(player.id)?.job?.onDuty).toBe(false);
    const duty = heard();
    // qb-core's own OnPlayerUpdated handler (registered first) re-fires OnJobUpdate inside.
    expect(duty.map((h) => h.event)).toEqual([
      'QBCore:Server:OnJobUpdate',
      'QBCore:Server:OnPlayerUpdated',
      'QBCore:Server:SetDuty',
    ]);
    expect(duty[1]!.args).toMatchObject([player.id, 'job', { name: 'police', onduty: false }]);
    expect(duty[2]!.args).toEqual([player.id, false]);

    await qbStandIn.setJob(fx, player, { name: 'ambulance' });
    expect(adapter.read(player.id)?.job).toEqual({ name: 'ambulance', type: 'ems', onDuty: true });
    const job = heard();
    expect(job.find((h) => h.event === 'QBCore:Server:OnJobUpdate')?.args).toMatchObject([
      player.id,
      { name: 'ambulance', type: 'ems', onduty: true },
    ]);
    expect(named(adapter, [...duty, ...job]).every((e) => e.player === player.id)).toBe(true);
    expect(fx.errors).toEqual([]);
  });

  it('follows qb-ambulancejob and qb-policejob: metadata and OnPlayerUpdated', async () => {
    await qbStandIn.start(fx);
    const adapter = qbAdapter(emulatorHost(fx));
    await qbStandIn.login(fx, player, jo);
    const heard = listen(fx, adapter);

    await qbStandIn.setLastStand(fx, player, true);
    expect(adapter.read(player.id)).toMatchObject({ dead: false, lastStand: true });
    await qbStandIn.setDead(fx, player, true);
    expect(adapter.read(player.id)).toMatchObject({ dead: true, lastStand: true });
    await qbStandIn.setCuffed(fx, player, true);
    expect(adapter.read(player.id)?.cuffed).toBe(true);
    const updates = heard();
    expect(updates.map((h) => [h.event, h.args[0], h.args[1]])).toEqual([
      ['QBCore:Server:OnPlayerUpdated', player.id, 'metadata'],
      ['QBCore:Server:OnPlayerUpdated', player.id, 'metadata'],
      ['QBCore:Server:OnPlayerUpdated', player.id, 'metadata'],
    ]);
    expect(updates[2]!.args[2]).toMatchObject({
      isdead: true,
      inlaststand: true,
      ishandcuffed: true,
    });
    // qb-ambulancejob keeps death in the metadata only: no state bag.
    expect(fx.playerState(player.id, 'isDead')).toBeUndefined();
    expect(fx.errors).toEqual([]);
  });

  it('counts items through qb-inventory beside qb-core (the inventories reader)', async () => {
    await qbInventoryStandIn.start(fx);
    await qbStandIn.start(fx);
    const host = emulatorHost(fx);
    const count = (item: string) => startedInventory(host)?.count(host, player.id, item) ?? null;
    await qbStandIn.login(fx, player, jo);
    expect(count('radio')).toBe(0);
    await qbInventoryStandIn.give(fx, player, 'radio', 2);
    await qbInventoryStandIn.give(fx, player, 'radio', 1);
    expect(count('radio')).toBe(3);
    expect(count('phone')).toBe(0);
    fx.stopResource('qb-inventory');
    expect(count('radio')).toBeNull();
    expect(fx.errors).toEqual([]);
  });

  it('unloads on logout and on drop; a broken core makes read() throw', async () => {
    await qbStandIn.start(fx);
    const adapter = qbAdapter(emulatorHost(fx));
    await qbStandIn.login(fx, player, jo);
    const heard = listen(fx, adapter);
    await qbStandIn.logout(fx, player);
    expect(adapter.read(player.id)).toBeNull();
    expect(named(adapter, heard())).toEqual([
      { event: 'QBCore:Server:OnPlayerUnload', player: player.id, unload: true },
    ]);

    await qbStandIn.login(fx, player, jo);
    heard();
    const id = player.id;
    player.drop();
    await fx.settle();
    expect(named(adapter, heard())).toEqual([
      { event: 'QBCore:Server:PlayerDropped', player: id, unload: true },
      { event: 'QBCore:Server:OnPlayerUnload', player: id, unload: true },
    ]);

    const other = fx.addPlayer({ name: 'al', identifiers: ['license:al'], position: [0, 0, 0] });
    await qbStandIn.login(fx, other, jo);
    await qbStandIn.breakExports(fx);
    expect(() => adapter.read(other.id)).toThrow(/GetPlayer/);
  });
});
