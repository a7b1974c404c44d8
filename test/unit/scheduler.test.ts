import { describe, expect, it } from 'vitest';
import type { DispatchCall } from '../../shared/contract';
import type { HttpAttempt } from '../../shared/outcome';
import { Scheduler } from '../../shared/scheduler';
import { FakeClock } from '../support/clock';

const W = 60_000;
const call = (priority = 1, title = 'x'): DispatchCall => ({
  origin: 0,
  status: 1,
  priority,
  block: '',
  address: '',
  postal: '',
  title,
  code: '911',
  description: '',
  notes: [],
  communityUserIds: ['u'],
});
const ok = (callId: number): HttpAttempt => ({
  kind: 'response',
  status: 201,
  headers: {},
  body: `{"callId":${callId}}`,
});

/** A scheduler against a simulated CAD that answers after `latency` ms of fake time. */
function rig(
  respond: (c: DispatchCall, n: number) => HttpAttempt,
  opts: { latency?: number; requests?: number } = {},
) {
  const clock = new FakeClock();
  const latency = opts.latency ?? 100;
  const arrivals: number[] = [];
  const settled: { title: string; type: string; at: number }[] = [];
  const delayed: string[] = [];
  let unauthorized = 0;
  let n = 0;
  const s = new Scheduler<null>(
    {
      send: (c) => {
        // The CAD counts a request somewhere between send and response: take the worst case.
        arrivals.push(clock.now() + latency);
        const answer = respond(c, n++);
        return new Promise((resolve) => clock.timers_.set(() => resolve(answer), latency));
      },
      now: clock.now,
      timers: clock.timers_,
      random: () => 0.5,
      onSettled: (job, o) => settled.push({ title: job.call.title, type: o.type, at: clock.now() }),
      onDelayed: (job, o) => delayed.push(`${job.call.title}:${o.type}`),
      onUnauthorized: () => unauthorized++,
    },
    {
      requests: opts.requests ?? 20,
      windowMs: W,
      marginMs: 500,
      backoffBaseMs: 2_000,
      backoffMaxMs: 300_000,
    },
  );
  const maxInWindow = () =>
    Math.max(0, ...arrivals.map((t) => arrivals.filter((u) => u > t - W && u <= t).length));
  return { clock, s, arrivals, settled, delayed, maxInWindow, unauthorized: () => unauthorized };
}

describe('Scheduler', () => {
  it('sends a burst as fast as the window allows and never more than the limit', async () => {
    const r = rig((_, n) => ok(n));
    for (let i = 0; i < 45; i++) r.s.enqueue(`c${i}`, call(1, `c${i}`), null);
    await r.clock.advance(10 * W);
    expect(r.settled).toHaveLength(45);
    expect(r.maxInWindow()).toBe(20);
    // Batches start at 0, then one window after the last response + margin.
    const starts = r.arrivals.map((t) => t - 100);
    expect(starts[19]).toBe(0);
    expect(starts[20]).toBe(100 + 500 + W);
    expect(starts[40]).toBe(2 * (100 + 500 + W));
    // Idle means idle.
    expect(r.clock.pending()).toBe(0);
  });

  it('sends urgent calls first and keeps first-come order within a priority', async () => {
    const r = rig((_, n) => ok(n), { requests: 1 });
    r.s.enqueue('a', call(3, 'low-1'), null);
    r.s.enqueue('b', call(3, 'low-2'), null);
    r.s.enqueue('c', call(1, 'urgent'), null);
    r.s.enqueue('d', call(2, 'medium'), null);
    await r.clock.advance(5 * W);
    expect(r.settled.map((s) => s.title)).toEqual(['low-1', 'urgent', 'medium', 'low-2']);
  });

  it('tells a new call its place and an honest wait', async () => {
    const r = rig((_, n) => ok(n), { requests: 2 });
    expect(r.s.enqueue('a', call(), null)).toEqual({ position: 0, waitMs: 0 });
    expect(r.s.enqueue('b', call(), null)).toEqual({ position: 0, waitMs: 0 });
    const third = r.s.enqueue('c', call(), null);
    expect(third.position).toBe(0);
    expect(third.waitMs).toBeGreaterThanOrEqual(W);
    expect(third.waitMs).toBeLessThan(W + 3_000);
    await r.clock.advance(3 * W);
    const sentAt = r.arrivals[2]! - 100;
    expect(Math.abs(sentAt - third.waitMs)).toBeLessThan(1_500);
  });

  it('pauses everything on 429 until Retry-After, without losing or failing the call', async () => {
    const r = rig((_, n) =>
      n === 0
        ? { kind: 'response', status: 429, headers: { 'retry-after': '30' }, body: '' }
        : ok(n),
    );
    r.s.enqueue('a', call(1, 'a'), null);
    await r.clock.advance(1_000);
    expect(r.delayed).toEqual(['a:rate-limited']);
    r.s.enqueue('b', call(1, 'b'), null);
    await r.clock.advance(28_000);
    expect(r.arrivals).toHaveLength(1);
    await r.clock.advance(2_000);
    expect(r.settled.map((s) => s.title).sort()).toEqual(['a', 'b']);
  });

  it('retries a failing CAD with growing backoff and delivers in the end', async () => {
    const failures = 4;
    const r = rig((_, n) =>
      n < failures ? { kind: 'response', status: 503, headers: {}, body: '' } : ok(7),
    );
    r.s.enqueue('a', call(1, 'a'), null);
    await r.clock.advance(10 * W);
    expect(r.settled).toEqual([{ title: 'a', type: 'sent', at: expect.any(Number) }]);
    const gaps = r.arrivals.slice(1).map((t, i) => t - r.arrivals[i]!);
    // Full jitter with random = 0.5: half of 2 s, 4 s, 8 s, 16 s, plus the 100 ms answer.
    expect(gaps).toEqual([1_100, 2_100, 4_100, 8_100]);
  });

  it('moves a refused call aside and carries on with the rest', async () => {
    const r = rig((c) =>
      c.title === 'bad'
        ? { kind: 'response', status: 400, headers: {}, body: '{"detail":"nope"}' }
        : ok(1),
    );
    r.s.enqueue('a', call(1, 'bad'), null);
    r.s.enqueue('b', call(1, 'good'), null);
    await r.clock.advance(1_000);
    expect(r.settled.map((s) => `${s.title}:${s.type}`)).toEqual(['bad:rejected', 'good:sent']);
  });

  it('stops on a refused key, says so once, and resumes on demand', async () => {
    let keyFixed = false;
    const r = rig(
      () => (keyFixed ? ok(1) : { kind: 'response', status: 401, headers: {}, body: '' }),
      {
        requests: 5,
      },
    );
    r.s.enqueue('a', call(1, 'a'), null);
    r.s.enqueue('b', call(1, 'b'), null);
    await r.clock.advance(10 * W);
    expect(r.unauthorized()).toBe(1);
    expect(r.s.status()).toMatchObject({ queued: 2, inFlight: 0, pause: { until: null } });
    // Paused forever means no timer is running.
    expect(r.clock.pending()).toBe(0);
    keyFixed = true;
    r.s.resume();
    await r.clock.advance(1_000);
    expect(r.settled.map((s) => s.title)).toEqual(['a', 'b']);
  });
});
