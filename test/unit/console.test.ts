import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../sandbox/support/clock';
import { dispatchCall, schedulerOptions } from '../../sandbox/support/fixtures';
import { runConsole } from '../../server/console';
import { type CallMeta, type CallResult, createDispatch } from '../../server/dispatch';
import type { World } from '../../server/world';
import type { DispatchCall } from '../../shared/call/contract';
import { defaultMessages } from '../../shared/config/locale';
import { MemoryStore } from '../../shared/delivery/outbox';
import type { HttpAttempt } from '../../shared/delivery/outcome';

const USAGE = 'usage: sonoran911 status | queue [page] | dead [page] | retry <id|all> | drop <id>';
const call = (title: string): DispatchCall =>
  dispatchCall({ title, address: 'Alta St', postal: '8055', communityUserIds: ['dispatch'] });
const meta = (callerName: string): CallMeta => ({
  player: 3,
  playerKey: 'license:abc',
  callerName,
  source: '/911',
});
const created = (callId: number): HttpAttempt => ({
  kind: 'response',
  status: 201,
  headers: {},
  body: JSON.stringify({ callId }),
});
const refused: HttpAttempt = {
  kind: 'response',
  status: 400,
  headers: { 'content-type': 'application/problem+json' },
  body: JSON.stringify({ status: 400, detail: 'unknown postal', traceId: 'tr-9' }),
};
/** "c0000001-…": short ids (8 characters) that differ by number. */
const id = (n: number) => `c${String(n).padStart(7, '0')}-4e1d-9a7c-${n}`;

/** The real dispatch on fakes (store, CAD, clock), and the operator's console over it. */
function rig(answer: (n: number) => HttpAttempt) {
  const clock = new FakeClock();
  const told: [number, string][] = [];
  const results: CallResult[] = [];
  let sent = 0;
  const dispatch = createDispatch(
    {
      send: () => {
        const reply = answer(sent++);
        return new Promise((resolve) => clock.timers_.set(() => resolve(reply), 100));
      },
      store: new MemoryStore(),
      world: {
        playerExists: () => true,
        identifiers: () => ['license:abc'],
      } as unknown as World,
      log: { info: () => {}, warn: () => {}, error: () => {} },
      notifier: { messages: defaultMessages, tell: (player, key) => told.push([player, key]) },
      emitLocal: () => {},
      now: clock.now,
      timers: clock.timers_,
      random: () => 0.5,
    },
    schedulerOptions({ requests: 50 }),
  );
  let refreshed = 0;
  const run = (...args: string[]) =>
    runConsole(
      {
        scheduler: dispatch.scheduler,
        now: clock.now,
        drop: dispatch.drop,
        refreshKey: () => {
          refreshed++;
          return {
            apiKeyFrom: 'convar sonoran911_apiKey',
            serverId: 2,
            serverIdFrom: 'config.json',
            problems: [],
          };
        },
      },
      args,
    );
  const add = (n: number, holdMs = 0) =>
    dispatch.enqueue(id(n), call(`call ${n}`), meta(`P${n}`), holdMs, (r) => results.push(r));
  return { clock, dispatch, run, add, told, results, refreshes: () => refreshed, sent: () => sent };
}

describe('sonoran911 console', () => {
  it('says an idle line is idle, also with no verb at all', () => {
    const r = rig(() => created(1));
    const idle = [
      'queue: 0 waiting (0 stalled), 0 in flight',
      'budget: 0 of 50 requests used in the rolling 60 s window',
      'next send: nothing waiting',
      'paused: no',
      'dead letters: 0',
    ];
    expect(r.run('status')).toEqual(idle);
    expect(r.run()).toEqual(idle);
    expect(r.run('STATUS')).toEqual(idle);
  });

  it('names a stalled call, the budget spent and the pause in its status', async () => {
    const r = rig(() => ({
      kind: 'response',
      status: 500,
      headers: {},
      body: JSON.stringify({ detail: 'database down' }),
    }));
    r.add(1);
    await r.clock.advance(200);
    // The first failure is tried again at once; the second pauses the key for a backoff.
    expect(r.sent()).toBe(2);
    expect(r.run('status')).toEqual([
      'queue: 1 waiting (1 stalled), 0 in flight, oldest waiting 0.2 s',
      'stalled: c0000001 (/911 from P1) failed 2 attempt(s), last: HTTP 500: database down; calls that have not failed go first (sonoran911 drop c0000001 removes it)',
      'budget: 2 of 50 requests used in the rolling 60 s window',
      'next send: in 1.0 s',
      'paused: until 00:00:01 UTC (in 1.0 s): the CAD is failing (HTTP 500: database down); 2 failure(s) in a row, all of call c0000001; others go first',
      'dead letters: 0',
    ]);
  });

  it('lists the queue 20 to a page, with where the next page is', async () => {
    const r = rig(() => created(1));
    for (let n = 1; n <= 25; n++) r.add(n, 600_000);
    await r.clock.advance(5_000);
    const first = r.run('queue');
    expect(first).toHaveLength(21);
    expect(first[0]).toBe(
      'queue: page 1 of 2 (25 waiting, in send order; sonoran911 queue 2 for the next)',
    );
    expect(first[1]).toBe('1. c0000001 priority 1 /911 from P1, waiting 5.0 s');
    expect(first[20]).toBe('20. c0000020 priority 1 /911 from P20, waiting 5.0 s');
    expect(r.run('queue', '2')).toEqual([
      'queue: page 2 of 2 (25 waiting, in send order)',
      '21. c0000021 priority 1 /911 from P21, waiting 5.0 s',
      '22. c0000022 priority 1 /911 from P22, waiting 5.0 s',
      '23. c0000023 priority 1 /911 from P23, waiting 5.0 s',
      '24. c0000024 priority 1 /911 from P24, waiting 5.0 s',
      '25. c0000025 priority 1 /911 from P25, waiting 5.0 s',
    ]);
    expect(r.run('queue', '3')).toEqual(['queue: no page 3; there are 2 pages']);
    expect(r.run('queue', 'x')).toEqual(['queue: no page x; there are 2 pages']);
    expect(r.sent()).toBe(0);
  });

  it('lists one page of the queue without a header, and an empty queue as empty', () => {
    const r = rig(() => created(1));
    expect(r.run('queue')).toEqual(['queue: empty']);
    r.add(1, 600_000);
    expect(r.run('queue')).toEqual(['1. c0000001 priority 1 /911 from P1, waiting 0.0 s']);
    expect(r.run('queue', '2')).toEqual(['queue: no page 2; there is 1 page']);
  });

  it('lists dead letters newest first, 20 to a page, with the CAD detail', async () => {
    const r = rig(() => refused);
    expect(r.run('dead')).toEqual(['dead letters: none']);
    for (let n = 1; n <= 21; n++) r.add(n);
    await r.clock.advance(1_000);
    const first = r.run('dead');
    expect(first).toHaveLength(21);
    expect(first[0]).toBe(
      'dead letters: page 1 of 2 (21 kept, newest first; sonoran911 dead 2 for the next)',
    );
    expect(first[1]).toBe(
      'c0000021 /911 from P21 at 00:00:00 UTC: HTTP 400, unknown postal, traceId=tr-9',
    );
    expect(r.run('dead', '2')).toEqual([
      'dead letters: page 2 of 2 (21 kept, newest first)',
      'c0000001 /911 from P1 at 00:00:00 UTC: HTTP 400, unknown postal, traceId=tr-9',
    ]);
    expect(r.run('dead', '3')).toEqual(['dead: no page 3; there are 2 pages']);
    expect(r.run('status').at(-1)).toBe('dead letters: 21 (sonoran911 dead lists them)');
  });

  it('re-queues every dead letter on "retry all" and says where calls now go', async () => {
    const r = rig((n) => (n < 3 ? refused : created(500 + n)));
    for (let n = 1; n <= 3; n++) r.add(n);
    await r.clock.advance(1_000);
    expect(r.results.map((x) => x.ok)).toEqual([false, false, false]);
    expect(r.run('retry', 'all')).toEqual([
      'retry: 3 dead letter(s) re-queued, sending resumed (API key from convar sonoran911_apiKey); calls go to CAD server 2 (from config.json)',
    ]);
    expect(r.refreshes()).toBe(1);
    await r.clock.advance(1_000);
    expect(r.sent()).toBe(6);
    expect(r.run('dead')).toEqual(['dead letters: none']);
    expect(r.told.map(([, key]) => key)).toEqual([
      'rejected',
      'rejected',
      'rejected',
      'created',
      'created',
      'created',
    ]);
  });

  it('retries one dead letter by its short id, and says when a call is not dead', async () => {
    const r = rig((n) => (n === 0 ? refused : created(9)));
    r.add(1);
    r.add(2, 600_000);
    await r.clock.advance(1_000);
    expect(r.run('retry', 'c0000001')).toEqual([
      'retry: c0000001 re-queued; calls go to CAD server 2 (from config.json)',
    ]);
    expect(r.run('retry', 'c0000002')).toEqual([
      'retry: c0000002 is not a dead letter (it is queued or in flight)',
    ]);
    expect(r.run('retry', 'zz')).toEqual(['no call id starts with "zz"']);
    expect(r.run('retry')).toEqual([USAGE]);
  });

  it('answers each kind of drop', async () => {
    const r = rig((n) => (n === 0 ? refused : created(9)));
    r.add(1);
    await r.clock.advance(1_000);
    r.add(2, 600_000);
    r.add(3, 600_000);
    expect(r.run('drop', 'c000000')).toEqual(['"c000000" matches 3 calls: give more characters']);
    expect(r.run('drop', 'c0000002')).toEqual([
      'drop: c0000002 removed for good; whoever raised it was told',
    ]);
    expect(r.run('drop', 'c0000001')).toEqual(['drop: dead letter c0000001 removed for good']);
    expect(r.run('drop', 'c0000002')).toEqual(['no call id starts with "c0000002"']);
    expect(r.run('drop')).toEqual([USAGE]);
    expect(r.told).toEqual([
      [3, 'rejected'],
      [3, 'rejected'],
    ]);
    expect(r.results.map((x) => x.id)).toEqual([id(1), id(2)]);
    r.add(4);
    await r.clock.advance(50);
    expect(r.run('drop', 'c0000004')).toEqual([
      'drop: c0000004 is being sent right now and cannot be recalled',
    ]);
    expect(r.run('queue')).toEqual(['1. c0000003 priority 1 /911 from P3, waiting 0.1 s']);
  });

  it('answers an unknown verb with the usage', () => {
    const r = rig(() => created(1));
    expect(r.run('flush')).toEqual([USAGE]);
    expect(r.run('help')).toEqual([USAGE]);
  });
});
