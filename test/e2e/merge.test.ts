/**
 * One incident, one call, end to end: reports of the same thing fold into the call while it
 * waits, go out as notes on it once the CAD created it, and a caller hears the number and,
 * with Sonoran's own sonorancad resource beside us, that units respond. What is asserted is
 * what a player reads and what a dispatcher finds in the CAD.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Player } from '../../sandbox/emulator';
import { SonorancadStandIn } from '../../sandbox/sonorancad';
import { playersReady, RESOURCE, type Rig, type RigOptions, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

const MERGE = {
  merge: { radiusMeters: 100, windowMinutes: 5, sameCommand: true, followUpSeconds: 10 },
};

/** Within 100 m of the rig's players (they stand at 425.1, -979.2). */
const NEARBY: [number, number, number] = [450, -960, 30.7];
/** Kilometres away, another postal. */
const FAR: [number, number, number] = [-1200, 3000, 30];

const createdRe = /Dispatch call #(\d+) created/;
const mergedLine = (callId: number) => `Your report was added to dispatch call #${callId}.`;
const unitsLine = (callId: number) => `Units are responding to your call #${callId}.`;
const PENDING = 'Your report was added to a call already on its way to dispatch.';
const count = (p: Player, text: string) => p.chat.filter((m) => m.text === text).length;
const noteRequests = (r: Rig) => r.cad.requests.filter((q) => q.route === 'notes');
interface QueueStatus {
  queued: number;
  inFlight: number;
  nextSendInMs: number;
  notes: { queued: number; inFlight: number };
}
const queueStatus = (r: Rig) =>
  r.fx.exportsOf<{ getQueueStatus(): QueueStatus }>(RESOURCE).getQueueStatus();
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function start(options: RigOptions = {}) {
  rig = await startRig({ ...options, config: { ...MERGE, ...(options.config as object) } });
  return rig;
}

/** The player reads the line (exactly). */
async function reads(r: Rig, p: Player, text: string, timeoutMs = 3_000) {
  await r.fx.waitFor(() => p.chat.some((m) => m.text === text), {
    what: `${p.name} to read "${text}"`,
    timeoutMs,
  });
}

/** The CAD number the player read in "Dispatch call #N created". */
/** The one note failed twice and now waits out the notes lane's backoff, not in flight. */
async function noteBackingOff(r: Rig) {
  await r.fx.waitFor(
    () => {
      const { notes } = queueStatus(r);
      const failed = noteRequests(r).filter((q) => q.status === 503).length;
      return failed >= 2 && notes.queued === 1 && notes.inFlight === 0;
    },
    { what: 'the note waiting out a backoff', timeoutMs: 8_000 },
  );
}

async function createdFor(r: Rig, p: Player, timeoutMs = 3_000): Promise<number> {
  await r.fx.waitFor(() => said(p, createdRe), { what: `${p.name}'s call created`, timeoutMs });
  const line = p.chat.find((m) => createdRe.test(m.text))!;
  return Number(createdRe.exec(line.text)![1]);
}

describe('reports of one incident join one call', () => {
  it('folds a nearby report into the call while the CAD is down: one call carries it, its caller hears the number', async () => {
    const r = await start();
    const [first, second] = await playersReady(r, 2);
    second!.move(...NEARBY);
    r.cad.setOutage({ status: 503 }, 'calls');
    first!.type('/911 shots fired at the bank');
    await r.fx.waitFor(() => said(first!, /cannot be reached right now/), {
      what: 'the first call delayed',
    });
    // Waiting out the backoff, not in flight: the moment a report folds into the call.
    await r.fx.waitFor(
      () => {
        const s = queueStatus(r);
        return s.queued === 1 && s.inFlight === 0 && s.nextSendInMs > 200;
      },
      { what: 'the call waiting out a backoff', timeoutMs: 8_000 },
    );
    second!.type('/911 I hear gunshots by the bank');
    await reads(r, second!, PENDING);
    expect(r.cad.calls).toHaveLength(0);

    r.cad.setOutage(null, 'calls');
    const callId = await createdFor(r, first!, 10_000);
    await reads(r, second!, mergedLine(callId));
    await r.fx.settle();
    expect(r.cad.calls).toHaveLength(1);
    const call = r.cad.calls[0]!;
    expect(call.callId).toBe(callId);
    expect(call.body.description).toBe('shots fired at the bank');
    expect(call.body.notes).toEqual([
      expect.objectContaining({ label: 'Caller 1', content: 'I hear gunshots by the bank' }),
    ]);
    // A folded report costs no request of its own.
    expect(noteRequests(r)).toEqual([]);
    // The second caller opened no call: they never read a call number of their own.
    expect(said(second!, createdRe)).toBe(false);
    expect(r.fx.errors).toEqual([]);
  });

  it('adds a nearby report made after the call was created as a note on it, not a second call', async () => {
    const r = await start();
    const [first, second] = await playersReady(r, 2);
    second!.move(...NEARBY);
    first!.type('/911 shots fired at the bank');
    const callId = await createdFor(r, first!);
    second!.type('/911 two men ran out with bags');
    await reads(r, second!, mergedLine(callId));
    await r.fx.waitFor(() => r.cad.notes.length === 1, { what: 'the note' });
    expect(r.cad.notes[0]).toMatchObject({
      callId,
      body: { note: 'Caller 1: two men ran out with bags', noteType: 'text' },
    });
    await sleep(200);
    expect(r.cad.calls).toHaveLength(1);
    expect(said(second!, createdRe)).toBe(false);
  });

  it("joins a caller's follow-up from far away as a note, and holds back a third report within the follow-up limit", async () => {
    const r = await start();
    const [caller] = await playersReady(r, 1);
    caller!.type('/911 shots fired at the bank');
    const callId = await createdFor(r, caller!);
    // They drove off after the suspects: the follow-up is theirs, wherever they are.
    caller!.move(...FAR);
    caller!.type('/911 the shooter is heading north on the highway');
    await reads(r, caller!, mergedLine(callId));
    await r.fx.waitFor(() => r.cad.notes.length === 1, { what: 'the follow-up note' });
    expect(r.cad.notes[0]!.body.note).toBe('Caller 0: the shooter is heading north on the highway');
    caller!.type('/911 now he turned east');
    await r.fx.waitFor(() => said(caller!, /^Please wait \d+ s before using \/911 again\.$/), {
      what: 'the follow-up limit',
    });
    await sleep(200);
    expect(r.cad.notes).toHaveLength(1);
    expect(r.cad.calls).toHaveLength(1);
    expect(count(caller!, mergedLine(callId))).toBe(1);
  });

  it('shares one note among several reports while the notes route is down; every report arrives', async () => {
    const r = await start();
    const players = await playersReady(r, 6);
    const [first, ...others] = players;
    for (const p of others) p.move(...NEARBY);
    first!.type('/911 shots fired at the bank');
    const callId = await createdFor(r, first!);
    r.cad.setOutage({ status: 503 }, 'notes');
    others[0]!.type('/911 report number 1');
    await reads(r, others[0]!, mergedLine(callId));
    // Its note failed twice and waits out the notes lane's backoff: later reports ride along.
    await noteBackingOff(r);
    for (const [i, p] of others.slice(1).entries()) p.type(`/911 report number ${i + 2}`);
    for (const p of others) await reads(r, p, mergedLine(callId));
    r.cad.setOutage(null, 'notes');
    const text = () => r.cad.notes.map((n) => n.body.note).join('\n');
    await r.fx.waitFor(() => others.every((_, i) => text().includes(`report number ${i + 1}`)), {
      what: 'every report on the call',
      timeoutMs: 10_000,
    });
    for (const [i] of others.entries())
      expect(text()).toContain(`Caller ${i + 1}: report number ${i + 1}`);
    expect(r.cad.notes.every((n) => n.callId === callId)).toBe(true);
    // Five reports, fewer requests: the ones made while the note waited rode along with it.
    expect(noteRequests(r).length).toBeLessThan(others.length);
    expect(r.cad.notes.length).toBeLessThan(others.length);
    expect(r.cad.calls).toHaveLength(1);
  });

  it('sends a report as a call of its own when the CAD refuses its note because the call is closed', async () => {
    const r = await start();
    const [first, second] = await playersReady(r, 2);
    second!.move(...NEARBY);
    first!.type('/911 shots fired at the bank');
    const callId = await createdFor(r, first!);
    // A dispatcher closes it in the CAD; without sonorancad we do not hear of it.
    r.cad.closeCall(callId);
    second!.type('/911 there is a man lying on the ground here');
    await r.fx.waitFor(() => r.cad.calls.length === 2, { what: 'the call sent instead' });
    const replacement = r.cad.calls[1]!;
    expect(replacement.callId).not.toBe(callId);
    expect(replacement.body.description).toBe('there is a man lying on the ground here');
    expect(noteRequests(r).map((q) => q.status)).toEqual([404]);
    expect(r.cad.notes).toEqual([]);
    // The caller ends up with the number of the call their report is really on.
    const got = await createdFor(r, second!);
    expect(got).toBe(replacement.callId);
    expect(r.fx.errors).toEqual([]);
  });

  it('lets later reports join the call sent in place of a refused note', async () => {
    const r = await start();
    const [first, second, third] = await playersReady(r, 3);
    second!.move(...NEARBY);
    third!.move(440, -970, 30.7);
    first!.type('/911 shots fired at the bank');
    const callId = await createdFor(r, first!);
    r.cad.closeCall(callId);
    second!.type('/911 there is a man lying on the ground here');
    const replacement = await createdFor(r, second!);
    third!.type('/911 someone is bleeding on the pavement');
    await r.fx.waitFor(() => said(third!, /added to dispatch call|Dispatch call #\d+ created/), {
      what: "the third caller's answer",
    });
    expect(third!.chatText()).toContain(`Dispatch: ${mergedLine(replacement)}`);
    expect(r.cad.calls).toHaveLength(2);
  });

  it('tells the caller of a call sent in place of a refused note that units respond', async () => {
    const r = await start({ before: (fx) => SonorancadStandIn.start(fx) });
    const [first, second] = await playersReady(r, 2);
    second!.move(...NEARBY);
    first!.type('/911 shots fired at the bank');
    const callId = await createdFor(r, first!);
    r.cad.closeCall(callId);
    second!.type('/911 there is a man lying on the ground here');
    const replacement = await createdFor(r, second!);
    await SonorancadStandIn.knowCall(r.fx, replacement);
    expect(await SonorancadStandIn.attachUnit(r.fx, replacement, 'Sam Reyes')).toEqual({
      ok: true,
    });
    await r.fx.settle();
    await sleep(200);
    expect(second!.chatText()).toContain(`Dispatch: ${unitsLine(replacement)}`);
  });

  it('tells every caller of a refused shared note where their report went', async () => {
    const r = await start();
    const [first, ...others] = await playersReady(r, 4);
    for (const p of others) p.move(...NEARBY);
    first!.type('/911 shots fired at the bank');
    const callId = await createdFor(r, first!);
    r.cad.setOutage({ status: 503 }, 'notes');
    others[0]!.type('/911 report number 1');
    await reads(r, others[0]!, mergedLine(callId));
    await noteBackingOff(r);
    others[1]!.type('/911 report number 2');
    others[2]!.type('/911 report number 3');
    await reads(r, others[2]!, mergedLine(callId));
    r.cad.closeCall(callId);
    r.cad.setOutage(null, 'notes');
    await r.fx.waitFor(() => r.cad.calls.length === 2, {
      what: 'the call sent instead',
      timeoutMs: 8_000,
    });
    const replacement = r.cad.calls[1]!;
    // Nothing lost: the call sent instead carries all three reports.
    expect(replacement.body.description).toBe('report number 1');
    expect(replacement.body.notes.map((n) => n.content)).toEqual([
      'report number 2',
      'report number 3',
    ]);
    await createdFor(r, others[0]!);
    await sleep(200);
    for (const p of others.slice(1))
      expect(p.chatText().some((t) => t.includes(`#${replacement.callId}`))).toBe(true);
  });

  it('does not merge at all with merge: null', async () => {
    rig = await startRig({ config: { merge: null } });
    const [first, second] = await playersReady(rig, 2);
    second!.move(...NEARBY);
    first!.type('/911 shots fired at the bank');
    const one = await createdFor(rig, first!);
    second!.type('/911 gunshots by the bank');
    const two = await createdFor(rig, second!);
    expect(two).not.toBe(one);
    expect(rig.cad.calls).toHaveLength(2);
    expect(rig.cad.notes).toEqual([]);
    expect(said(second!, /added to/)).toBe(false);
  });

  it('adds the waiting notes after a restart, each once', async () => {
    const r = await start();
    const [first, second] = await playersReady(r, 2);
    second!.move(...NEARBY);
    first!.type('/911 shots fired at the bank');
    const callId = await createdFor(r, first!);
    r.cad.setOutage({ status: 503 }, 'notes');
    second!.type('/911 the getaway car is a blue van');
    await reads(r, second!, mergedLine(callId));
    await r.fx.waitFor(() => noteRequests(r).some((q) => q.status === 503), {
      what: 'the note refused',
    });
    r.restart();
    await r.fx.settle();
    r.cad.setOutage(null, 'notes');
    await r.fx.waitFor(() => r.cad.notes.length === 1, {
      what: 'the note after the restart',
      timeoutMs: 10_000,
    });
    expect(r.cad.notes[0]).toMatchObject({
      callId,
      body: { note: 'Caller 1: the getaway car is a blue van' },
    });
    await sleep(500);
    expect(r.cad.notes).toHaveLength(1);
    expect(r.cad.calls).toHaveLength(1);
    expect(r.log()).toMatch(/1 note\(s\) from before the restart will be added/);
  });
});

/** A second resource calling our export, as a heist script would. */
const heist = `
const results = [];
exports('raise', (input) => exports['${RESOURCE}'].createDispatchCall(input, (r) => results.push(r)));
exports('results', () => results);
`;
type Answer = { ok: boolean; id?: string; merged?: boolean; callId?: number | null };
interface Heist {
  raise(input: unknown): Answer;
  results(): { ok: boolean; id: string; callId?: number }[];
}

describe('calls from other resources', () => {
  const alarm = (more: Record<string, unknown>) => ({
    title: 'Fleeca robbery',
    code: '211',
    description: 'Silent alarm',
    communityUserIds: ['dispatch-desk'],
    coords: [420, -980, 30],
    ...more,
  });

  async function withHeist() {
    const r = await start();
    r.fx.startResource('heist', { server: heist });
    return { r, api: r.fx.exportsOf<Heist>('heist') };
  }

  it('joins calls with the same incidentKey wherever they are, and keeps another key apart', async () => {
    const { r, api } = await withHeist();
    const first = api.raise(alarm({ incidentKey: 'heist-7' }));
    expect(first).toMatchObject({ ok: true, position: 1 });
    await r.fx.waitFor(() => api.results().length === 1, { what: 'the first call created' });
    const callId = r.cad.calls[0]!.callId;

    const second = api.raise(
      alarm({ incidentKey: 'heist-7', description: 'Getaway car at the docks', coords: FAR }),
    );
    expect(second).toMatchObject({ ok: true, merged: true, callId });
    await r.fx.waitFor(() => r.cad.notes.length === 1, { what: 'the note' });
    expect(r.cad.notes[0]).toMatchObject({ callId });
    expect(r.cad.notes[0]!.body.note).toContain('Getaway car at the docks');
    expect(api.results()[1]).toMatchObject({ ok: true, id: second.id, callId });

    // Another heist next door is another call.
    const other = api.raise(alarm({ incidentKey: 'heist-8' }));
    expect(other.merged).toBeUndefined();
    await r.fx.waitFor(() => r.cad.calls.length === 2, { what: 'the other heist' });
    expect(r.cad.notes).toHaveLength(1);
  });

  it('folds a keyed call into the first one while it waits; both callbacks hear its number', async () => {
    const { r, api } = await withHeist();
    r.cad.setOutage({ status: 503 }, 'calls');
    const first = api.raise(alarm({ incidentKey: 'heist-9' }));
    await r.fx.waitFor(
      () => {
        const s = queueStatus(r);
        return s.queued === 1 && s.inFlight === 0 && s.nextSendInMs > 200;
      },
      { what: 'the first call waiting out a backoff', timeoutMs: 8_000 },
    );
    const second = api.raise(
      alarm({ incidentKey: 'heist-9', description: 'Vault open', coords: FAR }),
    );
    expect(second).toMatchObject({ ok: true, merged: true, callId: null });
    r.cad.setOutage(null, 'calls');
    await r.fx.waitFor(() => api.results().length === 2, {
      what: 'both callbacks',
      timeoutMs: 8_000,
    });
    const [call] = r.cad.calls;
    expect(r.cad.calls).toHaveLength(1);
    expect(call!.body.notes).toEqual([expect.objectContaining({ content: 'Vault open' })]);
    expect(api.results()).toEqual(
      expect.arrayContaining([
        { ok: true, id: first.id, callId: call!.callId },
        { ok: true, id: second.id, callId: call!.callId },
      ]),
    );
  });

  it('never joins a call raised with merge: false, nor lets others join it', async () => {
    const { r, api } = await withHeist();
    api.raise(alarm({}));
    await r.fx.waitFor(() => r.cad.calls.length === 1, { what: 'the first call' });
    const apart = api.raise(alarm({ merge: false, description: 'Second alarm' }));
    expect(apart.merged).toBeUndefined();
    await r.fx.waitFor(() => r.cad.calls.length === 2, { what: 'the call kept apart' });
    // A third one next door joins the first, not the one kept apart.
    const third = api.raise(alarm({ description: 'Third alarm' }));
    expect(third).toMatchObject({ merged: true, callId: r.cad.calls[0]!.callId });
    await r.fx.waitFor(() => r.cad.notes.length === 1, { what: 'the note' });
    expect(r.cad.notes[0]!.callId).toBe(r.cad.calls[0]!.callId);
    expect(r.cad.calls).toHaveLength(2);
  });
});

describe("Sonoran's push events (through the sonorancad resource)", () => {
  const withSonorancad = () => start({ before: (fx) => SonorancadStandIn.start(fx) });

  it('tells every caller of the incident once that units respond, however many attach', async () => {
    const r = await withSonorancad();
    const [first, second, bystander] = await playersReady(r, 3);
    second!.move(...NEARBY);
    bystander!.move(...FAR);
    first!.type('/911 shots fired at the bank');
    const callId = await createdFor(r, first!);
    second!.type('/911 I see smoke');
    await reads(r, second!, mergedLine(callId));
    bystander!.type('/911 a car crash on the highway');
    await createdFor(r, bystander!);

    await SonorancadStandIn.knowCall(r.fx, callId);
    expect(await SonorancadStandIn.attachUnit(r.fx, callId, 'Sam Reyes')).toEqual({ ok: true });
    await reads(r, first!, unitsLine(callId));
    await reads(r, second!, unitsLine(callId));
    await SonorancadStandIn.attachUnit(r.fx, callId, 'Kim Lee');
    await r.fx.settle();
    await sleep(100);
    expect(count(first!, unitsLine(callId))).toBe(1);
    expect(count(second!, unitsLine(callId))).toBe(1);
    expect(said(bystander!, /Units are responding/)).toBe(false);
    expect(r.log()).toMatch(/sonorancad found/);
    expect(r.fx.errors).toEqual([]);
  });

  it('opens a new call for the next nearby report once the call was closed in the CAD', async () => {
    const r = await withSonorancad();
    const [first, second] = await playersReady(r, 2);
    second!.move(...NEARBY);
    first!.type('/911 shots fired at the bank');
    const callId = await createdFor(r, first!);
    await SonorancadStandIn.knowCall(r.fx, callId);
    r.cad.closeCall(callId);
    expect(await SonorancadStandIn.closeCall(r.fx, callId)).toEqual({ ok: true });
    second!.type('/911 more shots at the bank');
    const next = await createdFor(r, second!);
    expect(next).not.toBe(callId);
    expect(said(second!, /added to/)).toBe(false);
    expect(r.cad.calls).toHaveLength(2);
    // No note was tried on the closed call.
    expect(noteRequests(r)).toEqual([]);
  });

  it('works on without sonorancad: no units line, and events raised by someone else are ignored', async () => {
    const r = await start();
    const [first, second] = await playersReady(r, 2);
    second!.move(...NEARBY);
    first!.type('/911 shots fired at the bank');
    const callId = await createdFor(r, first!);
    r.cad.attach(callId, 'Sam Reyes');
    // Not sonorancad: a forged attach and close are not believed.
    r.fx.emit('SonoranCAD::pushevents:UnitAttach', { dispatch: { callId } }, { id: 1 });
    r.fx.emit('SonoranCAD::pushevents:DispatchEvent', {
      dispatch_type: 'CALL_CLOSE',
      dispatch: { callId, status: 2 },
    });
    second!.type('/911 another shot');
    await reads(r, second!, mergedLine(callId));
    await r.fx.waitFor(() => r.cad.notes.length === 1, { what: 'the note' });
    expect(said(first!, /Units are responding/)).toBe(false);
    expect(r.cad.calls).toHaveLength(1);
    expect(r.log()).not.toMatch(/sonorancad found/);
    expect(r.fx.errors).toEqual([]);
  });
});
