// The ESX, ox_core and ND_Core stand-ins in the emulator, read back through the adapters
// with a host built on the emulator: the exports as another resource calls them, the
// player state bags, and the framework events as a listening resource receives them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FxServer, type Player } from '../../sandbox/emulator/index';
import { createEsxStandIn, esx } from '../../sandbox/frameworks/esx';
import { nd } from '../../sandbox/frameworks/nd';
import { ox } from '../../sandbox/frameworks/ox';
import { esxAdapter } from '../../server/framework/esx';
import { ndAdapter } from '../../server/framework/nd';
import { oxAdapter } from '../../server/framework/ox';
import type { FrameworkAdapter, FrameworkHost } from '../../server/framework/types';

let fx: FxServer;
beforeEach(() => {
  fx = new FxServer();
});
afterEach(() => {
  fx.shutdown();
});

const emulatorHost = (server: FxServer): FrameworkHost => ({
  resourceState: (name) => server.resourceState(name),
  call: (resource, name, ...args) =>
    server.exportsOf(resource, { from: 'sonoran-911' })[name]!(...args),
  playerState: (player, key) => server.playerState(player, key),
});

interface Heard {
  name: string;
  source: unknown;
  args: unknown[];
}

/** A resource that records the adapter's events as a server script receives them. */
function listen(adapter: FrameworkAdapter): () => Heard[] {
  const names = JSON.stringify(adapter.events.map((e) => e.event));
  fx.startResource('listener', {
    server: `
      const heard = [];
      const plain = (v) => JSON.parse(JSON.stringify(v ?? null, (_k, x) => (typeof x === 'function' ? '<fn>' : x)));
      for (const name of ${names}) on(name, (...args) => heard.push({ name, source, args: plain(args) }));
      exports('heard', () => heard.splice(0));`,
  });
  return () => fx.exportsOf<{ heard(): Heard[] }>('listener').heard();
}

/** Which player each heard event names, through the adapter's own reading of it. */
const players = (adapter: FrameworkAdapter, heard: Heard[]) =>
  heard.map((h) => {
    const e = adapter.events.find((x) => x.event === h.name)!;
    return [h.name, e.player(h.source, h.args), e.unload ?? false];
  });

const addPlayer = (name: string): Player =>
  fx.addPlayer({ name, identifiers: [`license:${name}`], position: [0, 0, 0] });

describe('ESX stand-in', () => {
  it('logs in, changes job and duty, dies and logs out as es_extended does', async () => {
    await esx.start(fx);
    const adapter = esxAdapter(emulatorHost(fx));
    const heard = listen(adapter);
    const p = addPlayer('ada');
    expect(adapter.read(p.id)).toBeNull();

    await esx.login(fx, p, {
      firstName: 'Ada',
      lastName: 'Lovelace',
      job: { name: 'police', type: 'leo', grade: 0 },
    });
    expect(adapter.read(p.id)).toEqual({
      firstName: 'Ada',
      lastName: 'Lovelace',
      phone: null,
      job: { name: 'police', type: 'leo', onDuty: true },
      dead: false,
      lastStand: false,
      cuffed: false,
    });
    const loaded = heard();
    expect(loaded).toHaveLength(1);
    expect(loaded[0]).toMatchObject({ name: 'esx:playerLoaded', source: '' });
    expect(loaded[0]!.args[0]).toBe(p.id);
    expect(loaded[0]!.args[1]).toMatchObject({
      source: p.id,
      job: { name: 'police' },
      variables: { firstName: 'Ada', lastName: 'Lovelace' },
      getJob: '<fn>',
    });
    expect(loaded[0]!.args[2]).toBe(false);
    expect(fx.playerState(p.id, 'name')).toBe('Ada Lovelace');
    expect(fx.playerState(p.id, 'job')).toMatchObject({ name: 'police', onDuty: true });

    await esx.setJob(fx, p, { name: 'ambulance', type: 'ems', onDuty: false });
    expect(adapter.read(p.id)?.job).toEqual({ name: 'ambulance', type: 'ems', onDuty: false });
    await esx.setDuty(fx, p, true);
    expect(adapter.read(p.id)?.job).toEqual({ name: 'ambulance', type: 'ems', onDuty: true });
    const jobs = heard();
    expect(jobs.map((h) => h.name)).toEqual(['esx:setJob', 'esx:setJob']);
    expect(jobs[0]!.args).toMatchObject([
      p.id,
      { name: 'ambulance', type: 'ems', onDuty: false },
      { name: 'police', type: 'leo', onDuty: true },
    ]);
    expect(players(adapter, jobs)).toEqual([
      ['esx:setJob', p.id, false],
      ['esx:setJob', p.id, false],
    ]);

    await esx.setDead(fx, p, true);
    expect(fx.playerState(p.id, 'isDead')).toBe(true);
    expect(adapter.read(p.id)?.dead).toBe(true);
    await esx.setDead(fx, p, false);
    expect(fx.playerState(p.id, 'isDead')).toBe(false);
    expect(adapter.read(p.id)?.dead).toBe(false);
    await esx.setCuffed(fx, p, true);
    expect(adapter.read(p.id)?.cuffed).toBe(false);

    await esx.giveItem(fx, p, 'phone', 2);
    expect(adapter.itemCount?.(p.id, 'phone')).toBe(2);
    // Never given: the stand-in's ESX answers nothing, which reads as unknown (let through).
    expect(adapter.itemCount?.(p.id, 'radio')).toBeNull();

    await esx.logout(fx, p);
    const out = heard();
    // esx:playerLogout runs onPlayerDropped, which raises esx:playerDropped inside it.
    expect(out.map((h) => h.name).sort()).toEqual(['esx:playerDropped', 'esx:playerLogout']);
    expect(out.find((h) => h.name === 'esx:playerDropped')!.args).toEqual([
      p.id,
      'esx_player_logout',
    ]);
    expect(players(adapter, out).every(([, id, unload]) => id === p.id && unload)).toBe(true);
    expect(adapter.read(p.id)).toBeNull();
    expect(fx.errors).toEqual([]);
  });

  it('raises esx:playerDropped when the player leaves', async () => {
    await esx.start(fx);
    const adapter = esxAdapter(emulatorHost(fx));
    const heard = listen(adapter);
    const p = addPlayer('bob');
    await esx.login(fx, p, { firstName: 'Bob', lastName: 'Ross' });
    expect(adapter.read(p.id)?.job).toEqual({ name: 'unemployed', type: 'civ', onDuty: false });
    heard();
    p.drop('bye');
    await fx.settle();
    expect(players(adapter, heard())).toEqual([['esx:playerDropped', p.id, true]]);
  });

  it('is read through getSharedObject where RunStaticPlayerMethod is missing', async () => {
    const old = createEsxStandIn({ staticMethods: false });
    await old.start(fx);
    const adapter = esxAdapter(emulatorHost(fx));
    const p = addPlayer('old');
    expect(adapter.read(p.id)).toBeNull();
    await old.login(fx, p, { firstName: 'Old', lastName: 'Timer', job: { name: 'police' } });
    expect(adapter.read(p.id)).toMatchObject({
      firstName: 'Old',
      lastName: 'Timer',
      job: { name: 'police', type: 'leo', onDuty: true },
    });
    await old.giveItem(fx, p, 'phone', 1);
    expect(adapter.itemCount?.(p.id, 'phone')).toBe(1);
    await old.breakExports(fx);
    // The kept GetPlayerFromId reference still works (the stand-in breaks its exports only),
    // so ask a fresh adapter, which needs the broken getSharedObject.
    expect(() => esxAdapter(emulatorHost(fx)).read(p.id)).toThrow();
  });

  it('throws from read() once its exports break', async () => {
    await esx.start(fx);
    const adapter = esxAdapter(emulatorHost(fx));
    const p = addPlayer('eve');
    await esx.login(fx, p, { firstName: 'Eve', lastName: 'Online' });
    expect(adapter.read(p.id)?.firstName).toBe('Eve');
    await esx.breakExports(fx);
    expect(() => adapter.read(p.id)).toThrow(/RunStaticPlayerMethod/);
    expect(() => adapter.itemCount?.(p.id, 'phone')).toThrow();
    fx.errors.length = 0;
  });
});

describe('ox_core stand-in', () => {
  it('logs in, changes group, dies and logs out as ox_core does', async () => {
    await ox.start(fx);
    const adapter = oxAdapter(emulatorHost(fx));
    const heard = listen(adapter);
    const p = addPlayer('grace');
    // Joined, no character yet.
    expect(fx.exportsOf(ox.resources[0]!).GetPlayer!(p.id)).toMatchObject({ source: p.id });
    expect(adapter.read(p.id)).toBeNull();

    await ox.login(fx, p, {
      firstName: 'Grace',
      lastName: 'Hopper',
      phone: '555-0101',
      job: { name: 'police', type: 'leo' },
    });
    expect(adapter.read(p.id)).toEqual({
      firstName: 'Grace',
      lastName: 'Hopper',
      phone: '555-0101',
      job: { name: 'police', type: null, onDuty: null },
      dead: false,
      lastStand: false,
      cuffed: false,
    });
    const loaded = heard();
    expect(loaded).toEqual([
      { name: 'ox:playerLoaded', source: '', args: [p.id, expect.any(Number), 1] },
    ]);
    expect(players(adapter, loaded)).toEqual([['ox:playerLoaded', p.id, false]]);
    // An OxPlayer crosses as its public fields only.
    const copy = fx.exportsOf(ox.resources[0]!).GetPlayer!(p.id) as Record<string, unknown>;
    expect(Object.keys(copy).sort()).toEqual(
      ['charId', 'identifier', 'ped', 'source', 'stateId', 'userId', 'username'].sort(),
    );

    await ox.setJob(fx, p, { name: 'ems', type: 'ems' });
    expect(adapter.read(p.id)?.job).toEqual({ name: 'ems', type: null, onDuty: null });
    const jobs = heard();
    expect(jobs.map((h) => [h.name, h.args])).toEqual([
      ['ox:setGroup', [p.id, 'police', null]],
      ['ox:setGroup', [p.id, 'ems', 1]],
      ['ox:setActiveGroup', [p.id, 'ems', null]],
    ]);
    expect(players(adapter, jobs).every(([, id]) => id === p.id)).toBe(true);
    await ox.setDuty(fx, p, false);
    expect(adapter.read(p.id)?.job?.onDuty).toBeNull();

    await ox.setDead(fx, p, true);
    expect(fx.playerState(p.id, 'isDead')).toBe(true);
    expect(adapter.read(p.id)?.dead).toBe(true);
    await ox.setDead(fx, p, false);
    expect(adapter.read(p.id)?.dead).toBe(false);
    expect(adapter.itemCount?.(p.id, 'phone')).toBeNull();

    await ox.logout(fx, p);
    const out = heard();
    expect(out).toEqual([
      { name: 'ox:playerLogout', source: '', args: [p.id, expect.any(Number), 1] },
    ]);
    expect(players(adapter, out)).toEqual([['ox:playerLogout', p.id, true]]);
    expect(adapter.read(p.id)).toBeNull();
    expect(fx.errors).toEqual([]);
  });

  it('throws from read() once its exports break', async () => {
    await ox.start(fx);
    const adapter = oxAdapter(emulatorHost(fx));
    const p = addPlayer('kay');
    await ox.login(fx, p, { firstName: 'Kay', lastName: 'Kay' });
    expect(adapter.read(p.id)?.job).toBeNull();
    await ox.breakExports(fx);
    expect(() => adapter.read(p.id)).toThrow();
    fx.errors.length = 0;
  });
});

describe('ND_Core stand-in', () => {
  it('logs in, changes job, dies and logs out as ND_Core does', async () => {
    await nd.start(fx);
    const adapter = ndAdapter(emulatorHost(fx));
    const heard = listen(adapter);
    const p = addPlayer('kj');
    expect(adapter.read(p.id)).toBeNull();

    await nd.login(fx, p, {
      firstName: 'Katherine',
      lastName: 'Johnson',
      phone: '555-0199',
      job: { name: 'sahp', grade: 2 },
    });
    expect(adapter.read(p.id)).toEqual({
      firstName: 'Katherine',
      lastName: 'Johnson',
      phone: '555-0199',
      job: { name: 'sahp', type: null, onDuty: null },
      dead: false,
      lastStand: false,
      cuffed: false,
    });
    const loaded = heard();
    expect(loaded).toHaveLength(1);
    expect(loaded[0]).toMatchObject({
      name: 'ND:characterLoaded',
      source: '',
      args: [{ source: p.id, firstname: 'Katherine', job: 'sahp', setJob: '<fn>' }],
    });
    expect(players(adapter, loaded)).toEqual([['ND:characterLoaded', p.id, false]]);

    await nd.setJob(fx, p, { name: 'lspd', grade: 1 });
    expect(adapter.read(p.id)?.job).toEqual({ name: 'lspd', type: null, onDuty: null });
    const jobs = heard();
    // setJob: removeGroup (key "groups"), then the job key.
    expect(jobs.map((h) => [h.name, h.args[1]])).toEqual([
      ['ND:updateCharacter', 'groups'],
      ['ND:updateCharacter', 'job'],
    ]);
    expect(jobs[1]!.args[0]).toMatchObject({
      source: p.id,
      job: 'lspd',
      jobInfo: { name: 'lspd' },
    });
    expect(players(adapter, jobs).every(([, id]) => id === p.id)).toBe(true);

    await nd.setDead(fx, p, true);
    expect(adapter.read(p.id)?.dead).toBe(true);
    const death = heard();
    expect(death.map((h) => [h.name, h.args[1]])).toEqual([['ND:updateCharacter', 'metadata']]);
    expect(death[0]!.args[0]).toMatchObject({ metadata: { dead: true } });
    await nd.setDead(fx, p, false);
    expect(adapter.read(p.id)?.dead).toBe(false);
    heard();
    await nd.setCuffed(fx, p, true);
    expect(adapter.read(p.id)?.cuffed).toBe(true);
    await nd.setCuffed(fx, p, false);
    expect(adapter.read(p.id)?.cuffed).toBe(false);

    await nd.logout(fx, p);
    const out = heard();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ name: 'ND:characterUnloaded', args: [p.id, { source: p.id }] });
    expect(players(adapter, out)).toEqual([['ND:characterUnloaded', p.id, true]]);
    expect(adapter.read(p.id)).toBeNull();
    expect(fx.errors).toEqual([]);
  });

  it('throws from read() once its exports break', async () => {
    await nd.start(fx);
    const adapter = ndAdapter(emulatorHost(fx));
    const p = addPlayer('nd');
    await nd.login(fx, p, { firstName: 'N', lastName: 'D' });
    expect(adapter.read(p.id)?.job).toBeNull();
    await nd.breakExports(fx);
    expect(() => adapter.read(p.id)).toThrow(/getPlayer/);
    fx.errors.length = 0;
  });
});
