import { afterEach, describe, expect, it } from 'vitest';
import { bankRobber, RESOURCE, type Rig, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

/**
 * A second resource, as a robbery script or a phone would be written: it calls our exports,
 * keeps what its callbacks and our events deliver, and exposes both to the test.
 */
const consumer = `
const results = [];
const events = [];
on('sonoran911:callCreated', (id, callId, call) => events.push({ type: 'created', id, callId, title: call.title }));
on('sonoran911:callFailed', (id, error) => events.push({ type: 'failed', id, error }));
exports('raise', (input) => exports['${RESOURCE}'].createDispatchCall(input, (r) => results.push(r)));
exports('raiseNoCallback', (input) => exports['${RESOURCE}'].createDispatchCall(input));
exports('phone', (playerId, text) => exports['${RESOURCE}'].report911(playerId, text, (r) => results.push(r)));
exports('status', () => exports['${RESOURCE}'].getQueueStatus());
exports('results', () => results);
exports('events', () => events);
`;

type Answer = { ok: boolean; id?: string; position?: number; error?: string };
interface Consumer {
  raise(input: unknown): Answer;
  raiseNoCallback(input: unknown): Answer;
  phone(playerId: unknown, text: unknown): Answer;
  status(): Record<string, unknown>;
  results(): { ok: boolean; id: string; callId?: number; error?: string }[];
  events(): { type: string; id: string; callId?: number; title?: string; error?: string }[];
}

async function withConsumer(config: Record<string, unknown> = {}, name = 'robbery') {
  rig = await startRig({ config });
  rig.fx.startResource(name, { server: consumer });
  // Wrapped: an exports proxy is not a promise, and awaiting it would look up a "then" export.
  return { api: rig.fx.exportsOf<Consumer>(name) };
}

describe('exports for other resources', () => {
  it('raises a call at coords, answers at once and reports the callId to the callback and events', async () => {
    const { api: robbery } = await withConsumer();
    const answer = robbery.raise({
      title: 'Fleeca robbery',
      description: 'Silent alarm triggered',
      coords: [420, -980, 30],
      communityUserIds: ['dispatch-desk'],
      metaData: { vault: 2, silent: true, bank: 'Fleeca' },
    });
    expect(answer).toEqual({ ok: true, id: expect.stringMatching(/^[0-9a-f-]{36}$/), position: 1 });
    await rig!.fx.waitFor(() => robbery.results().length === 1, { what: 'callback' });
    const { callId, body } = rig!.cad.calls[0]!;
    expect(robbery.results()).toEqual([{ ok: true, id: answer.id, callId }]);
    expect(robbery.events()).toContainEqual({
      type: 'created',
      id: answer.id,
      callId,
      title: 'Fleeca robbery',
    });
    expect(body).toMatchObject({
      title: 'Fleeca robbery',
      code: 'ALERT',
      priority: 2,
      description: 'Silent alarm triggered',
      address: 'Near postal 8055',
      postal: '8055',
      notes: [],
      metaData: {
        vault: '2',
        silent: 'true',
        bank: 'Fleeca',
        resource: 'robbery',
        x: '420',
        y: '-980',
        z: '30',
      },
    });
    expect(rig!.log()).toMatch(/"Fleeca robbery" raised by resource robbery queued/);
  });

  it('takes identity, position and street names from a playerId', async () => {
    const { api: robbery } = await withConsumer();
    const player = rig!.fx.addPlayer(bankRobber);
    await rig!.fx.waitFor(() => player.hasClientCommand('911'), { what: 'client ready' });
    const answer = robbery.raise({
      title: 'Store alarm',
      playerId: player.id,
      priority: 1,
      code: '10-90',
    });
    expect(answer.ok).toBe(true);
    await rig!.fx.waitFor(() => rig!.cad.calls.length === 1, { what: 'the call' });
    expect(rig!.cad.calls[0]!.body).toMatchObject({
      code: '10-90',
      priority: 1,
      address: 'Alta St, Downtown',
      block: 'Alta St / Integrity Way',
      communityUserIds: ['1a2b3c4d5e'],
      metaData: { callerName: 'Jo Bloggs', callerPlayerId: String(player.id), x: '425.1' },
    });
  });

  it('refuses what the CAD would refuse, with a reason, and queues nothing', async () => {
    const { api: robbery } = await withConsumer();
    const cases: [unknown, RegExp][] = [
      [{}, /title.*expected text/],
      [{ title: '' }, /a call needs a title/],
      [{ title: 'x', tittle: 'y', coords: [0, 0, 0] }, /unknown field\(s\) "tittle"/],
      [{ title: 'x', coords: [1, 2] }, /coords.*expected coords as a vector3, \[x, y, z\]/],
      [{ title: 'x', coords: { x: 1, y: 2, z: Number.NaN } }, /coords/],
      [
        { title: 'x', accounts: ['nope'], coords: [0, 0, 0] },
        /accounts\[0\] = "nope": expected an account UUID/,
      ],
      [
        { title: 'x', metaData: { a: { b: 1 } }, communityUserIds: ['u'] },
        /metaData\.a.*nested values are not allowed/,
      ],
      [
        { title: 'x', deleteAfterMinutes: 0, communityUserIds: ['u'] },
        /deleteAfterMinutes = 0: expected a positive/,
      ],
      [{ title: 'x', priority: 'high', communityUserIds: ['u'] }, /priority = "high"/],
      [{ title: 'x', origin: 7, communityUserIds: ['u'] }, /origin = 7: expected a call origin/],
      [
        { title: 'x', coords: [0, 0, 0] },
        /at least one target.*pass playerId, communityUserIds or accounts/,
      ],
      [{ title: 'x', playerId: 999 }, /playerId 999 is not connected/],
      ['a string', /expected object/],
      [null, /expected object/],
    ];
    for (const [input, error] of cases) {
      const answer = robbery.raise(input);
      expect(answer.ok, JSON.stringify(input)).toBe(false);
      expect(answer.error, JSON.stringify(input)).toMatch(error);
    }
    await rig!.fx.settle();
    expect(rig!.cad.requests).toHaveLength(0);
    expect(rig!.fx.errors).toEqual([]);
  });

  it('lets a phone resource report for a player exactly as /911 would', async () => {
    const { api: phone } = await withConsumer({}, 'phone');
    const player = rig!.fx.addPlayer(bankRobber);
    await rig!.fx.waitFor(() => player.hasClientCommand('911'), { what: 'client ready' });
    const answer = phone.phone(player.id, 'my car was stolen');
    expect(answer).toMatchObject({ ok: true, position: 1 });
    await rig!.fx.waitFor(() => phone.results().length === 1, { what: 'callback' });
    expect(said(player, /received/)).toBe(true);
    expect(said(player, /Dispatch call #\d+ created/)).toBe(true);
    expect(rig!.cad.calls[0]!.body).toMatchObject({
      title: '911 Call',
      description: 'my car was stolen',
      address: 'Alta St, Downtown',
      metaData: { callerName: 'Jo Bloggs', heading: '92' },
    });
    expect(phone.phone(player.id, '')).toEqual({ ok: false, error: 'the description is empty' });
    // GetPlayers() hands out ids as strings: "7" is player 7 (here: not connected).
    expect(phone.phone('7', 'x').error).toMatch(/player 7 is not connected/);
    expect(phone.phone('seven', 'x').error).toMatch(
      /playerId = "seven" must be a player server id/,
    );
    expect(phone.phone(4242, 'x').error).toMatch(/not connected/);
  });

  it('ignores street names from a client that is not where the server sees it', async () => {
    const { api: phone } = await withConsumer({}, 'phone');
    const player = rig!.fx.addPlayer({ ...bankRobber, clientPosition: [-1200, 3000, 5] });
    await rig!.fx.waitFor(() => player.hasClientCommand('911'), { what: 'client ready' });
    expect(phone.phone(player.id, 'spoofed').ok).toBe(true);
    await rig!.fx.waitFor(() => rig!.cad.calls.length === 1, { what: 'the call' });
    expect(rig!.cad.calls[0]!.body).toMatchObject({
      address: 'Near postal 8055',
      metaData: { x: '425.1' },
    });
  });

  it('tells the callback and the events when the CAD refuses a call', async () => {
    const { api: robbery } = await withConsumer();
    rig!.cad.failNext(1, {
      status: 422,
      body: { status: 422, title: 'Unprocessable', detail: 'code unknown' },
    });
    const answer = robbery.raise({ title: 'x', coords: [0, 0, 0], communityUserIds: ['dispatch'] });
    await rig!.fx.waitFor(() => robbery.results().length === 1, { what: 'callback' });
    expect(robbery.results()).toEqual([{ ok: false, id: answer.id, error: 'code unknown' }]);
    expect(robbery.events()).toContainEqual({
      type: 'failed',
      id: answer.id,
      error: 'code unknown',
    });
  });

  it('limits who may call and how often', async () => {
    const { api: robbery } = await withConsumer({
      exportAllowList: ['robbery'],
      exportCallsPerMinute: 3,
    });
    rig!.fx.startResource('cheat-menu', { server: consumer });
    const cheat = rig!.fx.exportsOf<Consumer>('cheat-menu');
    expect(cheat.raise({ title: 'fake', communityUserIds: ['u'] })).toEqual({
      ok: false,
      error: 'resource "cheat-menu" may not raise calls (it is not in exportAllowList)',
    });
    const input = { title: 'loop', communityUserIds: ['u'] };
    const answers = [1, 2, 3, 4].map(() => robbery.raiseNoCallback(input));
    expect(answers.map((a) => a.ok)).toEqual([true, true, true, false]);
    expect(answers[3]!.error).toMatch(/more than 3 calls in a minute/);
    expect(rig!.log()).toMatch(/createDispatchCall from resource cheat-menu refused/);
  });

  it('reports the queue as data', async () => {
    const { api: robbery } = await withConsumer();
    expect(robbery.status()).toEqual({
      queued: 0,
      inFlight: 0,
      stalled: 0,
      deadLetters: 0,
      usedInWindow: 0,
      requestsPerWindow: 20,
      windowMs: 60_000,
      nextSendInMs: null,
      oldestWaitingMs: null,
      paused: false,
      pausedUntil: null,
      pauseReason: null,
      droppedPayloads: 0,
      notes: { queued: 0, inFlight: 0, usedInWindow: 0, requestsPerWindow: 60 },
      sharedBudget: null,
    });
  });
});
