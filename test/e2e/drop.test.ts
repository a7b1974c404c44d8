import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, op, playersReady, RESOURCE, type Rig, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

/** A robbery script: raises calls through our export and keeps what it hears back. */
const consumer = `
const results = [];
const events = [];
on('sonoran911:callFailed', (id, error) => events.push({ id, error }));
exports('raise', (input) => exports['${RESOURCE}'].createDispatchCall(input, (r) => results.push(r)));
exports('results', () => results);
exports('events', () => events);
exports('status', () => exports['${RESOURCE}'].getQueueStatus());
`;
interface Consumer {
  raise(input: unknown): { ok: boolean; id: string };
  results(): { ok: boolean; id: string; error?: string }[];
  events(): { id: string; error: string }[];
  status(): { queued: number; inFlight: number };
}

describe('sonoran911 drop', () => {
  it('tells the resource, its callback and the player that an operator dropped their call', async () => {
    rig = await startRig();
    rig.fx.startResource('robbery', { server: consumer });
    const robbery = rig.fx.exportsOf<Consumer>('robbery');
    const [p] = await playersReady(rig, 1);
    // Someone else spent the key's budget: the CAD answers 429 and both calls wait a minute.
    rig.cad.spend(API_KEY, 20);
    const raised = robbery.raise({
      title: 'Fleeca robbery',
      coords: [420, -980, 30],
      communityUserIds: ['dispatch-desk'],
    });
    expect(raised.ok).toBe(true);
    p!.type('/911 prank call');
    await rig.fx.waitFor(() => robbery.status().queued === 2 && robbery.status().inFlight === 0, {
      what: 'two calls waiting, none in flight',
    });
    const [playerCall] = [...rig.fx.kvp(RESOURCE).keys()]
      .filter((k) => k.startsWith('outbox:call:'))
      .map((k) => k.slice('outbox:call:'.length))
      .filter((id) => id !== raised.id);
    const mine = playerCall!.slice(0, 8);
    const theirs = raised.id.slice(0, 8);

    const answers = [op(rig, `sonoran911 drop ${theirs}`), op(rig, `sonoran911 drop ${mine}`)];
    await rig.fx.settle();

    // The callback hears it once; the event fires for both calls; the player is told.
    expect(robbery.results()).toEqual([
      { ok: false, id: raised.id, error: 'dropped by an operator' },
    ]);
    expect(robbery.events()).toContainEqual({ id: raised.id, error: 'dropped by an operator' });
    expect(robbery.events()).toContainEqual({ id: playerCall, error: 'dropped by an operator' });
    expect(said(p!, /could not accept your call \(dropped by an operator\)/)).toBe(true);
    expect(rig.log()).toMatch(/\/911 from Caller 0\) dropped by an operator/);
    expect(robbery.status().queued).toBe(0);
    expect(rig.cad.calls).toEqual([]);
    expect(robbery.events()).toHaveLength(2);
    expect(answers[0]).toContain(`drop: ${theirs} removed for good; whoever raised it was told`);
    expect(answers[1]).toContain(`drop: ${mine} removed for good; whoever raised it was told`);
  });

  it('removes a dead letter quietly: its caller already heard the CAD refuse it', async () => {
    rig = await startRig();
    rig.fx.startResource('robbery', { server: consumer });
    const robbery = rig.fx.exportsOf<Consumer>('robbery');
    rig.cad.failNext(1, {
      status: 400,
      body: { title: 'Bad Request', status: 400, detail: 'block too long', traceId: 't-1' },
    });
    const raised = robbery.raise({
      title: 'Fleeca robbery',
      coords: [420, -980, 30],
      communityUserIds: ['dispatch-desk'],
    });
    await rig.fx.waitFor(() => robbery.results().length === 1, { what: 'the refusal' });
    const id = raised.id.slice(0, 8);
    expect(op(rig, `sonoran911 drop ${id}`)).toEqual([`drop: dead letter ${id} removed for good`]);
    await rig.fx.settle();
    expect(robbery.results()).toEqual([{ ok: false, id: raised.id, error: 'block too long' }]);
    expect(robbery.events()).toEqual([{ id: raised.id, error: 'block too long' }]);
    expect(op(rig, 'sonoran911 dead')).toEqual(['dead letters: none']);
  });
});
