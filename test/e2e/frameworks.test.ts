/**
 * The resource on each framework, end to end: the stand-ins answer through the same exports,
 * state bags and events as the real cores (sandbox/frameworks), so what is read here is what
 * a server running that framework gives.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FxServer, Player } from '../../sandbox/emulator';
import { esxStandIn as esx } from '../../sandbox/frameworks/esx';
import { ndStandIn as nd } from '../../sandbox/frameworks/nd';
import { oxStandIn as ox } from '../../sandbox/frameworks/ox';
import { npwd } from '../../sandbox/frameworks/phones';
import { qbStandIn } from '../../sandbox/frameworks/qb';
import { qbxStandIn } from '../../sandbox/frameworks/qbx';
import type { CharacterSpec, FrameworkStandIn } from '../../sandbox/frameworks/types';
import { bankRobber, RESOURCE, type Rig, type RigOptions, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

interface Case {
  fw: FrameworkStandIn;
  /** The framework stores no number: the phone resource (npwd) gives it. */
  phoneFromPhone: boolean;
  /** The framework has a duty flag: an off-duty officer is not alerted. */
  duty: boolean;
  /** The framework or its police resource tracks handcuffs. */
  cuffs: boolean;
}

const CASES: Case[] = [
  { fw: qbxStandIn, phoneFromPhone: false, duty: true, cuffs: true },
  { fw: qbStandIn, phoneFromPhone: false, duty: true, cuffs: true },
  { fw: esx, phoneFromPhone: true, duty: true, cuffs: false },
  { fw: ox, phoneFromPhone: false, duty: false, cuffs: false },
  { fw: nd, phoneFromPhone: false, duty: false, cuffs: true },
];

const ANN: CharacterSpec = {
  firstName: 'Ann',
  lastName: 'Smith',
  phone: '555-0101',
  job: { name: 'unemployed', onDuty: false },
};

async function shift(c: Case, options: RigOptions = {}) {
  rig = await startRig({
    ...options,
    before: async (fx) => {
      await c.fw.start(fx);
      if (c.phoneFromPhone) await npwd.start(fx);
    },
  });
  const { fx } = rig;
  const join = async (name: string, character: CharacterSpec, at = bankRobber.position) => {
    const player = fx.addPlayer({
      ...bankRobber,
      name,
      identifiers: [`license:${name.toLowerCase().replace(/\W/g, '')}`],
      position: at,
    });
    await fx.waitFor(() => player.hasClientCommand('911'), { what: `${name}'s client` });
    await c.fw.login(fx, player, character);
    if (c.phoneFromPhone && character.phone) await npwd.setNumber(fx, player, character.phone);
    await fx.settle();
    return player;
  };
  const caller = await join('Jo Bloggs', ANN);
  const cop = await join('Officer', {
    firstName: 'Sam',
    lastName: 'Reyes',
    job: { name: 'police', type: 'leo', onDuty: true },
  });
  const offDuty = await join('Resting', {
    firstName: 'Kim',
    lastName: 'Lee',
    job: { name: 'police', type: 'leo', onDuty: false },
  });
  const civilian = await join('Civ', {
    firstName: 'Max',
    lastName: 'Doe',
    job: { name: 'unemployed' },
  });
  return { fx, caller, cop, offDuty, civilian };
}

const fromDispatch911 = (p: Player) => p.chat.filter((m) => m.author === '911').map((m) => m.text);

async function created(fx: FxServer, player: Player) {
  await fx.waitFor(() => said(player, /Dispatch call #\d+ created/), { what: 'the call created' });
}

describe.each(CASES)('on $fw.name', (c) => {
  it('a /911 carries the character and number; on-duty responders get the alert and a blip, nobody else', async () => {
    const { fx, caller, cop, offDuty, civilian } = await shift(c);
    caller.type('/911 shots fired at the bank');
    await created(fx, caller);
    const { body, callId } = rig!.cad.calls[0]!;
    expect(body.metaData).toMatchObject({ callerName: 'Ann Smith', callerPhone: '555-0101' });
    expect(body.description).toBe('shots fired at the bank\nCaller: Ann Smith\nCallback: 555-0101');
    expect(said(caller, /^1 unit on duty was notified\.$/)).toBe(c.duty);

    // The responder: one line at once, a blip where it happened, and the CAD's number.
    await fx.waitFor(() => fromDispatch911(cop).length === 2, { what: 'both responder lines' });
    expect(fromDispatch911(cop)).toEqual([
      '911 Call: shots fired at the bank (Alta St, Downtown, postal 8055)',
      `CAD call #${callId}: 911 Call (Alta St, Downtown, postal 8055)`,
    ]);
    expect(cop.blips).toMatchObject([{ x: 425.1, y: -979.2, name: '911 Call', flashes: true }]);
    expect(fromDispatch911(civilian)).toEqual([]);
    expect(civilian.blips).toEqual([]);
    expect(caller.blips).toEqual([]);
    // Without a duty flag the job alone counts: the "resting" officer is alerted there.
    expect(fromDispatch911(offDuty).length > 0).toBe(!c.duty);
    expect(rig!.log()).toMatch(new RegExp(`ready: .*framework ${c.fw.name} \\(detected`));
    expect(fx.errors).toEqual([]);
  });

  it('refuses a downed caller when the command says so, and sends a distress call when it says that', async () => {
    const commands = [
      { name: '911', downed: 'distress', cuffed: 'refuse' },
      { name: '311', downed: 'refuse' },
    ];
    const { fx, caller } = await shift(c, { config: { commands } });
    await c.fw.setDead(fx, caller, true);
    caller.type('/311 my car was stolen');
    await fx.waitFor(() => said(caller, /cannot make a call while you are down/), {
      what: 'the downed refusal',
    });
    caller.type('/911');
    await created(fx, caller);
    expect(rig!.cad.calls).toHaveLength(1);
    expect(rig!.cad.calls[0]!.body).toMatchObject({
      title: 'Person down',
      priority: 1,
      description: 'Caller is down and not responding.\nCaller: Ann Smith\nCallback: 555-0101',
    });
  });

  it(`${c.cuffs ? 'refuses' : 'cannot tell'} a handcuffed caller on a command that refuses them`, async () => {
    const { fx, caller } = await shift(c, {
      config: { commands: [{ name: '911', cuffed: 'refuse', cooldownSeconds: 0 }] },
    });
    await c.fw.setCuffed(fx, caller, true);
    caller.type('/911 help');
    if (c.cuffs) {
      await fx.waitFor(() => said(caller, /handcuffed/), { what: 'the cuffs refusal' });
      expect(rig!.cad.calls).toHaveLength(0);
      await c.fw.setCuffed(fx, caller, false);
      caller.type('/911 help');
    }
    await created(fx, caller);
    expect(rig!.cad.calls).toHaveLength(1);
  });

  it('never loses a call to a broken framework: what it knew, else FiveM names; one console line', async () => {
    const { fx, caller } = await shift(c);
    await c.fw.breakExports(fx);
    // Read before the break: the character it last knew.
    caller.type('/911 shots fired at the bank');
    await created(fx, caller);
    expect(rig!.cad.calls[0]!.body.metaData?.callerName).toBe('Ann Smith');
    // Never read: the FiveM name, as on a server without a framework.
    const late = fx.addPlayer({ ...bankRobber, name: 'Late Comer', identifiers: ['license:late'] });
    await fx.waitFor(() => late.hasClientCommand('911'), { what: "the late player's client" });
    late.type('/911 more shots');
    await created(fx, late);
    const body = rig!.cad.calls[1]!.body;
    expect(body.metaData?.callerName).toBe('Late Comer');
    expect(body.description).toBe('more shots');
    const failed = rig!
      .log()
      .split('\n')
      .filter((l) => l.includes(`framework ${c.fw.name}`) && l.includes('failed'));
    expect(failed).toHaveLength(1);
    // The framework's own throws are printed by FXServer as theirs; none is ours.
    expect(fx.errors.filter((e) => e.resource === RESOURCE)).toEqual([]);
  });

  it('keeps taking calls when the framework is stopped, and reads it again when it is back', async () => {
    const { fx, caller } = await shift(c, {
      config: { commands: [{ name: '911', cooldownSeconds: 0 }] },
    });
    const log = () => fx.serverLog(RESOURCE).join('\n');
    fx.stopResource(c.fw.resources[0]!);
    await fx.waitFor(() => /stopped: now no framework/.test(log()), { what: 'the console line' });
    caller.type('/911 first');
    await fx.waitFor(() => rig!.cad.calls.length === 1, { what: 'the first call' });
    expect(rig!.cad.calls[0]!.body.metaData?.callerName).toBe('Jo Bloggs');

    // Its medical and police resources go with it, as an operator restarting it would do.
    for (const name of c.fw.resources.slice(1)) fx.stopResource(name);
    await c.fw.start(fx);
    await fx.waitFor(() => new RegExp(`started: now framework ${c.fw.name}`).test(log()), {
      what: 'the framework found again',
    });
    await c.fw.login(fx, caller, ANN);
    if (c.phoneFromPhone) await npwd.setNumber(fx, caller, '555-0101');
    await fx.settle();
    caller.type('/911 second');
    await fx.waitFor(() => rig!.cad.calls.length === 2, { what: 'the second call' });
    expect(rig!.cad.calls[1]!.body.metaData?.callerName).toBe('Ann Smith');
  });
});
