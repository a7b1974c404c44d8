/**
 * What the resources around ours change for the people in game: a phone resource gives the
 * callback number, an inventory decides whether a caller has a phone to call with, an ACE
 * or a job makes a player a responder, another resource raises calls, and a framework that
 * starts late is still followed. Every stand-in answers as the real resource does
 * (sandbox/frameworks), so what is read here is what such a server gives.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FxServer, Player, PlayerOptions } from '../../sandbox/emulator';
import { esxStandIn } from '../../sandbox/frameworks/esx';
import { oxInventory } from '../../sandbox/frameworks/inventories';
import { PHONE_STAND_INS } from '../../sandbox/frameworks/phones';
import { qbInventoryStandIn, qbStandIn } from '../../sandbox/frameworks/qb';
import { qbxStandIn } from '../../sandbox/frameworks/qbx';
import type { CharacterSpec, FrameworkStandIn } from '../../sandbox/frameworks/types';
import { bankRobber, RESOURCE, type Rig, type RigOptions, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

async function start(options: RigOptions = {}): Promise<Rig> {
  rig = await startRig(options);
  return rig;
}

/** A player whose client has registered the commands. */
async function join(fx: FxServer, name: string, extra: Partial<PlayerOptions> = {}) {
  const player = fx.addPlayer({
    ...bankRobber,
    name,
    identifiers: [`license:${name.toLowerCase().replace(/\W/g, '')}`],
    ...extra,
  });
  await fx.waitFor(() => player.hasClientCommand('911'), { what: `${name}'s client` });
  return player;
}

async function created(fx: FxServer, player: Player, count = 1) {
  await fx.waitFor(
    () => player.chat.filter((m) => /^Dispatch call #\d+ created/.test(m.text)).length >= count,
    { what: `${player.name}'s call created` },
  );
}

/** The lines a player read from the responder alerts. */
const alerts = (p: Player) => p.chat.filter((m) => m.author === '911').map((m) => m.text);

const ANN: CharacterSpec = {
  firstName: 'Ann',
  lastName: 'Smith',
  phone: '555-0101',
  job: { name: 'unemployed', onDuty: false },
};
const COP: CharacterSpec = {
  firstName: 'Sam',
  lastName: 'Reyes',
  job: { name: 'police', type: 'leo', onDuty: true },
};
const RESTING: CharacterSpec = {
  firstName: 'Kim',
  lastName: 'Lee',
  job: { name: 'police', type: 'leo', onDuty: false },
};
const CIVILIAN: CharacterSpec = { firstName: 'Max', lastName: 'Doe', job: { name: 'unemployed' } };

async function login(fx: FxServer, fw: FrameworkStandIn, player: Player, c: CharacterSpec) {
  await fw.login(fx, player, c);
  await fx.settle();
}

describe.each(PHONE_STAND_INS)('standalone with the phone $resource', (phone) => {
  const setUp = async () => {
    const r = await start({ before: (fx) => phone.start(fx) });
    const caller = await join(r.fx, 'Jo Bloggs');
    return { ...r, caller };
  };

  // npwd answers asynchronously: the call waits for the number (PHONE_WAIT_MS).
  it('names the phone when ready; a typed /911 carries the number it gives', async () => {
    const { fx, cad, log, caller } = await setUp();
    expect(log()).toMatch(new RegExp(`ready: .*no framework .*, phone ${phone.resource}$`, 'm'));
    await phone.setNumber(fx, caller, '555-0101');
    await fx.settle();

    caller.type('/911 shots fired at the bank');
    await created(fx, caller);
    const { body } = cad.calls[0]!;
    expect(body.metaData).toMatchObject({ callerName: 'Jo Bloggs', callerPhone: '555-0101' });
    // No character to name: the dispatcher reads the words and the number to call back.
    expect(body.description).toBe('shots fired at the bank\nCallback: 555-0101');
    expect(fx.errors.filter((e) => e.resource === RESOURCE)).toEqual([]);
  });

  it('a player the phone has no number for: no callerPhone, the words alone', async () => {
    const { fx, cad, caller } = await setUp();
    caller.type('/911 my car is on fire');
    await created(fx, caller);
    const { body } = cad.calls[0]!;
    expect(body.metaData?.callerName).toBe('Jo Bloggs');
    expect(body.metaData).not.toHaveProperty('callerPhone');
    expect(body.description).toBe('my car is on fire');
    expect(fx.errors.filter((e) => e.resource === RESOURCE)).toEqual([]);
  });
});

describe('standalone with npwd (an async export)', () => {
  const npwd = PHONE_STAND_INS.find((p) => p.resource === 'npwd')!;

  it('the number npwd is still looking up arrives with the first call', async () => {
    const { fx, cad } = await start({ before: (fx) => npwd.start(fx) });
    const caller = await join(fx, 'Jo Bloggs');
    // npwd loads the player after we first read them: the call is the first to ask.
    await npwd.setNumber(fx, caller, '555-0199');
    caller.type('/911 someone broke in');
    await created(fx, caller);
    expect(cad.calls).toHaveLength(1);
    expect(cad.calls[0]!.body.metaData?.callerPhone).toBe('555-0199');
    expect(cad.calls[0]!.body.description).toBe('someone broke in\nCallback: 555-0199');
  });

  it('a later call has the number once npwd answered', async () => {
    const { fx, cad } = await start({
      before: (fx) => npwd.start(fx),
      config: { commands: [{ name: '911', cooldownSeconds: 0 }] },
    });
    const caller = await join(fx, 'Jo Bloggs');
    await npwd.setNumber(fx, caller, '555-0199');
    caller.type('/911 someone broke in');
    await created(fx, caller);
    caller.type('/911 they are still here');
    await created(fx, caller, 2);
    expect(cad.calls[1]!.body.metaData?.callerPhone).toBe('555-0199');
  });
});

describe('phoneItem: the caller needs a phone to call', () => {
  const PHONE_911 = {
    config: { commands: [{ name: '911', phoneItem: 'phone', cooldownSeconds: 0 }] },
  };

  const CASES: {
    what: string;
    fw: FrameworkStandIn;
    inventory?: (fx: FxServer) => Promise<void>;
    give: (fx: FxServer, player: Player) => Promise<void>;
  }[] = [
    {
      what: 'Qbox with ox_inventory',
      fw: qbxStandIn,
      inventory: (fx) => oxInventory.start(fx),
      give: (fx, p) => oxInventory.give(fx, p, 'phone', 1),
    },
    {
      what: 'QBCore with qb-inventory',
      fw: qbStandIn,
      inventory: (fx) => qbInventoryStandIn.start(fx),
      give: (fx, p) => qbInventoryStandIn.give(fx, p, 'phone', 1),
    },
    {
      what: 'ESX with its own inventory',
      fw: esxStandIn,
      give: (fx, p) => esxStandIn.giveItem(fx, p, 'phone', 1),
    },
  ];

  it.each(CASES)('on $what: refused without the item, created once it is given', async (c) => {
    const { fx, cad } = await start({
      ...PHONE_911,
      before: async (fx) => {
        await c.fw.start(fx);
        await c.inventory?.(fx);
      },
    });
    const caller = await join(fx, 'Jo Bloggs');
    await login(fx, c.fw, caller, ANN);

    caller.type('/911 shots fired');
    await fx.waitFor(() => said(caller, /^You need a phone to use \/911\.$/), {
      what: 'the no-phone refusal',
    });
    expect(said(caller, /Your call was received/)).toBe(false);

    await c.give(fx, caller);
    await fx.settle();
    caller.type('/911 shots fired');
    await created(fx, caller);
    // The refused call never reached the CAD: only the second one is there.
    expect(cad.calls).toHaveLength(1);
    expect(cad.calls[0]!.body.metaData?.callerName).toBe('Ann Smith');
    expect(fx.errors.filter((e) => e.resource === RESOURCE)).toEqual([]);
  });

  it('an inventory whose exports throw never costs a call: it goes through, one console line', async () => {
    const { fx, cad, log } = await start({
      ...PHONE_911,
      before: async (fx) => {
        await qbxStandIn.start(fx);
        await oxInventory.start(fx);
      },
    });
    const caller = await join(fx, 'Jo Bloggs');
    await login(fx, qbxStandIn, caller, ANN);
    await oxInventory.breakExports(fx);

    caller.type('/911 first');
    await created(fx, caller);
    caller.type('/911 second');
    await created(fx, caller, 2);
    expect(cad.calls.map((c) => c.body.description.split('\n')[0])).toEqual(['first', 'second']);
    expect(said(caller, /You need a phone/)).toBe(false);
    const failed = log()
      .split('\n')
      .filter((l) => l.includes('inventory ox_inventory') && l.includes('failed'));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/phoneItem is not checked/);
    expect(fx.errors.filter((e) => e.resource === RESOURCE)).toEqual([]);
  });
});

describe('standalone responders by ACE', () => {
  it('a player with the ACE reads the alert and gets a blip until blipSeconds pass; others get nothing', async () => {
    const { fx } = await start({
      config: {
        commands: [
          {
            name: '911',
            alert: { jobs: [], types: [], ace: 'sonoran911.responder', blipSeconds: 1 },
          },
        ],
      },
    });
    const caller = await join(fx, 'Jo Bloggs');
    const responder = await join(fx, 'Unit One', { aces: ['sonoran911.responder'] });
    const bystander = await join(fx, 'Passer By');

    caller.type('/911 shots fired at the bank');
    await created(fx, caller);
    expect(said(caller, /^1 unit on duty was notified\.$/)).toBe(true);
    await fx.waitFor(() => responder.blips.length === 1, { what: "the responder's blip" });
    expect(alerts(responder)[0]).toBe(
      '911 Call: shots fired at the bank (Alta St, Downtown, postal 8055)',
    );
    expect(responder.blips[0]).toMatchObject({ x: 425.1, y: -979.2, name: '911 Call' });
    expect(alerts(bystander)).toEqual([]);
    expect(bystander.blips).toEqual([]);
    expect(caller.blips).toEqual([]);

    // blipSeconds: 1 — the blip leaves the map by itself.
    await fx.waitFor(() => responder.blips.length === 0, {
      what: 'the blip removed',
      timeoutMs: 3_000,
    });
  });
});

/** Another resource raising calls, as an alarm or a phone app would. */
const CONSUMER = `
const results = [];
exports('raise', (input) => exports['${RESOURCE}'].createDispatchCall(input, (r) => results.push(r)));
exports('dial', (playerId, text) => exports['${RESOURCE}'].report911(playerId, text, (r) => results.push(r)));
exports('results', () => results);
`;
type Answer = { ok: boolean; id?: string; error?: string };
interface Consumer {
  raise(input: unknown): Answer;
  dial(playerId: number, text: string): Answer;
  results(): { ok: boolean; id: string; callId?: number }[];
}

async function qboxShift(options: RigOptions = {}) {
  const r = await start({ ...options, before: (fx) => qbxStandIn.start(fx) });
  const { fx } = r;
  fx.startResource('alarms', { server: CONSUMER });
  const api = fx.exportsOf<Consumer>('alarms');
  const people: Record<string, Player> = {};
  for (const [name, character] of [
    ['Jo Bloggs', ANN],
    ['Officer', COP],
    ['Resting', RESTING],
    ['Civ', CIVILIAN],
  ] as const) {
    people[name] = await join(fx, name);
    await login(fx, qbxStandIn, people[name]!, character);
  }
  return {
    fx,
    api,
    caller: people['Jo Bloggs']!,
    cop: people.Officer!,
    resting: people.Resting!,
    civilian: people.Civ!,
  };
}

const ALARM = {
  title: 'Fleeca vault alarm',
  code: '10-90',
  description: 'Silent alarm triggered',
  coords: [420, -980, 30],
  communityUserIds: ['dispatch'],
};

describe('createDispatchCall from another resource on Qbox', () => {
  it('an alarm with coords alerts on-duty police with a line and a blip there, nobody else', async () => {
    const { fx, api, caller, cop, resting, civilian } = await qboxShift();
    expect(api.raise(ALARM)).toMatchObject({ ok: true });
    await fx.waitFor(() => api.results().length === 1, { what: 'the CAD answer' });
    const { callId } = rig!.cad.calls[0]!;
    await fx.waitFor(() => alerts(cop).length === 2, { what: 'both responder lines' });
    // The exact place wording is pinned by the two tests below.
    const [first, second] = alerts(cop);
    expect(first).toMatch(/^Fleeca vault alarm: Silent alarm triggered \(Near postal 8055\b/);
    expect(second).toMatch(
      new RegExp(`^CAD call #${callId}: Fleeca vault alarm \\(Near postal 8055\\b`),
    );
    expect(cop.blips).toMatchObject([{ x: 420, y: -980, name: 'Fleeca vault alarm' }]);
    for (const p of [caller, resting, civilian]) {
      expect(alerts(p)).toEqual([]);
      expect(p.blips).toEqual([]);
    }
  });

  // The address is already the postal when no street is known: it is not said twice.
  it('a responder reads the postal of an alarm once', async () => {
    const { fx, api, cop } = await qboxShift();
    api.raise(ALARM);
    await fx.waitFor(() => alerts(cop).length >= 1, { what: 'the alert' });
    expect(alerts(cop)[0]).toBe('Fleeca vault alarm: Silent alarm triggered (Near postal 8055)');
  });

  // Without words the line drops their separator too.
  it('an alarm without a description reads without an empty ": "', async () => {
    const { fx, api, cop } = await qboxShift();
    api.raise({ ...ALARM, title: 'Store alarm', description: undefined });
    await fx.waitFor(() => alerts(cop).length >= 1, { what: 'the alert' });
    expect(alerts(cop)[0]).not.toMatch(/:\s+\(/);
  });

  it('exportDefaults.alert null: the call is created and nobody is alerted', async () => {
    const { fx, api, cop, resting, civilian } = await qboxShift({
      config: { exportDefaults: { alert: null } },
    });
    expect(api.raise(ALARM)).toMatchObject({ ok: true });
    await fx.waitFor(() => api.results().length === 1, { what: 'the CAD answer' });
    expect(api.results()[0]).toMatchObject({ ok: true });
    await fx.settle();
    for (const p of [cop, resting, civilian]) {
      expect(alerts(p)).toEqual([]);
      expect(p.blips).toEqual([]);
    }
  });
});

describe('report911 for a player on Qbox', () => {
  it('carries the character and number; responders hear of it once the client named the place', async () => {
    const { fx, api, caller, cop, civilian } = await qboxShift();
    const answer = api.dial(caller.id, 'someone is following me');
    expect(answer).toMatchObject({ ok: true });
    await fx.waitFor(() => api.results().length === 1, { what: 'the CAD answer' });
    const { body, callId } = rig!.cad.calls[0]!;
    expect(body.metaData).toMatchObject({ callerName: 'Ann Smith', callerPhone: '555-0101' });
    expect(body.description).toBe('someone is following me\nCaller: Ann Smith\nCallback: 555-0101');
    expect(body.address).toBe('Alta St, Downtown');
    await fx.waitFor(() => alerts(cop).length === 2, { what: 'both responder lines' });
    // The server knows no street names: "Alta St, Downtown" in the responder's line is what
    // the client answered, so the alert waited for it (before, it would read "Near postal").
    expect(alerts(cop)).toEqual([
      '911 Call: someone is following me (Alta St, Downtown, postal 8055)',
      `CAD call #${callId}: 911 Call (Alta St, Downtown, postal 8055)`,
    ]);
    expect(cop.blips).toMatchObject([{ x: 425.1, y: -979.2 }]);
    expect(alerts(civilian)).toEqual([]);
    expect(said(caller, /^1 unit on duty was notified\.$/)).toBe(true);
  });
});

describe('a framework that starts after this resource', () => {
  it('is used from then on: the console says so and the next call carries the character', async () => {
    const { fx, cad, log } = await start();
    expect(log()).toMatch(/ready: .*no framework \(standalone: none of them is started\)/);
    const caller = await join(fx, 'Jo Bloggs');
    await qbxStandIn.start(fx);
    await fx.waitFor(() => /qbx_core started: now framework qbx \(detected/.test(log()), {
      what: 'the framework noticed',
    });
    await login(fx, qbxStandIn, caller, ANN);
    caller.type('/911 shots fired');
    await created(fx, caller);
    expect(cad.calls[0]!.body.metaData).toMatchObject({
      callerName: 'Ann Smith',
      callerPhone: '555-0101',
    });
    expect(cad.calls[0]!.body.description).toBe(
      'shots fired\nCaller: Ann Smith\nCallback: 555-0101',
    );
  });
});
