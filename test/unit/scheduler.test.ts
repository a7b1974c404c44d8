import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeClock } from '../../sandbox/support/clock';
import { dispatchCall, schedulerOptions } from '../../sandbox/support/fixtures';
import type { DispatchCall } from '../../shared/call/contract';
import { MemoryStore, Outbox } from '../../shared/delivery/outbox';
import type { HttpAttempt } from '../../shared/delivery/outcome';
import { Scheduler, type SchedulerOptions } from '../../shared/delivery/scheduler';

const W = 60_000;
const call = (priority = 1, title = 'x'): DispatchCall => dispatchCall({ priority, title });
const ok = (callId: number): HttpAttempt => ({
  kind: 'response',
  status: 201,
  headers: {},
  body: `{"callId":${callId}}`,
});

interface RigOptions {
  latency?: number;
  requests?: number;
  clock?: FakeClock;
  store?: MemoryStore;
  /** Arrival times shared across restarts, as the CAD would see them. */
  arrivals?: number[];
  options?: Partial<SchedulerOptions>;
}

/** A scheduler against a simulated CAD that answers after `latency` ms of fake time. */
function rig(respond: (c: DispatchCall, n: number) => HttpAttempt, opts: RigOptions = {}) {
  const clock = opts.clock ?? new FakeClock();
  const store = opts.store ?? new MemoryStore();
  const latency = opts.latency ?? 100;
  const arrivals = opts.arrivals ?? [];
  const settled: { title: string; type: string; at: number }[] = [];
  const delayed: string[] = [];
  let unauthorized = 0;
  let n = 0;
  // After crash() this scheduler is dead: no answer reaches it and none of its timers fire.
  let crashed = false;
  const timers = {
    set: (fn: () => void, ms: number) => clock.timers_.set(() => crashed || fn(), ms),
    clear: clock.timers_.clear,
  };
  const outbox = new Outbox(store, z.null());
  const s = new Scheduler<null>(
    {
      send: (c) => {
        // The CAD counts a request somewhere between send and response: take the worst case.
        arrivals.push(clock.now() + latency);
        const answer = respond(c, n++);
        return new Promise((resolve) => timers.set(() => resolve(answer), latency));
      },
      now: clock.now,
      timers,
      random: () => 0.5,
      journal: outbox,
      onSettled: (job, o) => settled.push({ title: job.call.title, type: o.type, at: clock.now() }),
      onDelayed: (job, o) => delayed.push(`${job.call.title}:${o.type}`),
      onUnauthorized: (_job, _outcome, first) => {
        if (first) unauthorized++;
      },
    },
    schedulerOptions({ requests: opts.requests ?? 20, windowMs: W, ...opts.options }),
  );
  const maxInWindow = () =>
    Math.max(0, ...arrivals.map((t) => arrivals.filter((u) => u > t - W && u <= t).length));
  const add = (id: string, c: DispatchCall) => {
    const result = s.enqueue(id, c, null);
    if (!result.ok) throw new Error(result.reason);
    return result;
  };
  const crash = () => {
    crashed = true;
  };
  return {
    clock,
    store,
    outbox,
    s,
    add,
    crash,
    arrivals,
    settled,
    delayed,
    maxInWindow,
    unauthorized: () => unauthorized,
  };
}

describe('Scheduler', () => {
  it('sends a burst as fast as the window allows and never more than the limit', async () => {
    const r = rig((_, n) => ok(n));
    for (let i = 0; i < 45; i++) r.add(`c${i}`, call(1, `c${i}`));
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
    r.add('a', call(3, 'low-1'));
    r.add('b', call(3, 'low-2'));
    r.add('c', call(1, 'urgent'));
    r.add('d', call(2, 'medium'));
    await r.clock.advance(5 * W);
    expect(r.settled.map((s) => s.title)).toEqual(['low-1', 'urgent', 'medium', 'low-2']);
  });

  it('tells a new call its place and an honest wait', async () => {
    const r = rig((_, n) => ok(n), { requests: 2 });
    expect(r.add('a', call())).toEqual({ ok: true, position: 0, waitMs: 0 });
    expect(r.add('b', call())).toEqual({ ok: true, position: 0, waitMs: 0 });
    const third = r.add('c', call());
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
    r.add('a', call(1, 'a'));
    await r.clock.advance(1_000);
    expect(r.delayed).toEqual(['a:rate-limited']);
    r.add('b', call(1, 'b'));
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
    r.add('a', call(1, 'a'));
    await r.clock.advance(10 * W);
    expect(r.settled).toEqual([{ title: 'a', type: 'sent', at: expect.any(Number) }]);
    const gaps = r.arrivals.slice(1).map((t, i) => t - r.arrivals[i]!);
    // One failure is retried at once; from the second in a row, full jitter with
    // random = 0.5: half of 2 s, 4 s, 8 s, plus the 100 ms answer.
    expect(gaps).toEqual([100, 1_100, 2_100, 4_100]);
  });

  it('moves a refused call aside and carries on with the rest', async () => {
    const r = rig((c) =>
      c.title === 'bad'
        ? { kind: 'response', status: 400, headers: {}, body: '{"detail":"nope"}' }
        : ok(1),
    );
    r.add('a', call(1, 'bad'));
    r.add('b', call(1, 'good'));
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
    r.add('a', call(1, 'a'));
    r.add('b', call(1, 'b'));
    await r.clock.advance(10 * W);
    expect(r.unauthorized()).toBe(1);
    expect(r.s.status()).toMatchObject({ queued: 2, inFlight: 0, pause: { until: null } });
    // Paused forever means no timer is running.
    expect(r.clock.pending()).toBe(0);
    keyFixed = true;
    r.s.retry('all');
    await r.clock.advance(1_000);
    expect(r.settled.map((s) => s.title)).toEqual(['a', 'b']);
  });
});

describe('Scheduler durability and operations', () => {
  it('writes a call before enqueue returns and deletes it only once created', async () => {
    const r = rig(() => ok(1));
    r.add('a', call(1, 'a'));
    expect(r.store.keys('outbox:call:')).toEqual(['outbox:call:a']);
    expect(r.store.map.get('outbox:call:a')).toContain('"state":"pending"');
    await r.clock.advance(1_000);
    expect(r.settled).toHaveLength(1);
    expect(r.store.keys('outbox:call:')).toEqual([]);
  });

  it('refuses new calls past maxQueue and never drops an accepted one', async () => {
    const r = rig(() => ok(1), { requests: 1, options: { maxQueue: 3 } });
    for (const id of ['a', 'b', 'c']) r.add(id, call(1, id));
    expect(r.s.enqueue('d', call(1, 'd'), null)).toMatchObject({ ok: false, reason: 'full' });
    await r.clock.advance(4 * W);
    expect(r.settled.map((x) => x.title)).toEqual(['a', 'b', 'c']);
    expect(r.s.enqueue('e', call(1, 'e'), null).ok).toBe(true);
  });

  it('ages a waiting low-priority call so a stream of urgent calls cannot starve it', async () => {
    const run = async (agingMs: number) => {
      const r = rig(() => ok(1), { requests: 1, options: { agingMs } });
      r.add('first', call(1, 'first'));
      r.add('low', call(3, 'low'));
      // One new urgent call per window, each arriving just before a slot frees.
      for (let k = 1; k <= 6; k++) {
        await r.clock.advance(W * k - r.clock.now());
        r.add(`u${k}`, call(1, `u${k}`));
      }
      await r.clock.advance(10 * W);
      return r.settled.map((x) => x.title);
    };
    expect(await run(60_000)).toEqual(['first', 'u1', 'low', 'u2', 'u3', 'u4', 'u5', 'u6']);
    // Without aging (an hour per step) the low call waits for the whole stream.
    expect((await run(3_600_000)).at(-1)).toBe('low');
  });

  it('survives a restart: nothing lost and no burst past the window', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore();
    const arrivals: number[] = [];
    const before = rig(() => ok(1), { clock, store, arrivals, requests: 5 });
    for (let i = 0; i < 12; i++) before.add(`c${i}`, call(1, `c${i}`));
    await clock.advance(50);
    // Crash with 5 requests in flight and 7 waiting.
    before.crash();
    const after = rig(() => ok(2), { clock, store, arrivals, requests: 5 });
    after.s.restore(after.outbox.load());
    await clock.advance(5 * W);
    const delivered = new Set([...before.settled, ...after.settled].map((x) => x.title));
    expect(delivered.size).toBe(12);
    // At-least-once: only the 5 that were in flight may be sent twice.
    expect(arrivals.length).toBeLessThanOrEqual(12 + 5);
    const maxInWindow = Math.max(
      ...arrivals.map((t) => arrivals.filter((u) => u > t - W && u <= t).length),
    );
    expect(maxInWindow).toBeLessThanOrEqual(5);
    expect(store.keys('outbox:call:')).toEqual([]);
  });

  it('a late restore (KVP search busy at start) queues nothing twice and keeps the window', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore();
    const arrivals: number[] = [];
    // The CAD fails, so the first run ends with three calls saved and 3 requests spent.
    const before = rig(() => ({ kind: 'response', status: 503, headers: {}, body: '' }), {
      clock,
      store,
      arrivals,
      requests: 5,
    });
    for (const id of ['a', 'b', 'c']) before.add(id, call(1, id));
    await clock.advance(100);
    before.crash();
    const sentBefore = arrivals.length;
    const after = rig(() => ok(7), { clock, store, arrivals, requests: 5 });
    // Listing the calls failed: only the budget is back (a plain read), then new calls come.
    after.s.restore({ pending: [], dead: [], budget: after.outbox.loadBudget() });
    for (const id of ['n1', 'n2']) after.add(id, call(1, id));
    await clock.advance(50);
    // The retry finds the old calls and the new ones (saved too): the new ones are known.
    after.s.restore({ ...after.outbox.load(), budget: null });
    await clock.advance(5 * W);
    expect(after.settled.map((x) => x.title).sort()).toEqual(['a', 'b', 'c', 'n1', 'n2']);
    // Each call once after the restart: none of the new ones went out twice.
    expect(arrivals.length - sentBefore).toBe(5);
    const maxInWindow = Math.max(
      ...arrivals.map((t) => arrivals.filter((u) => u > t - W && u <= t).length),
    );
    expect(maxInWindow).toBeLessThanOrEqual(5);
    expect(store.keys('outbox:call:')).toEqual([]);
  });

  it('a late restore puts the older calls first within a priority, in memory and on disk', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore();
    const failing = () => ({ kind: 'response', status: 503, headers: {}, body: '' }) as const;
    const before = rig(failing, { clock, store, requests: 3 });
    for (const id of ['a', 'b', 'c']) before.add(id, call(1, id));
    await clock.advance(100);
    before.crash();
    // The budget the first run spent is full: new calls wait, numbered 0 and 1 again.
    const after = rig(() => ok(7), { clock, store, requests: 3 });
    after.s.restore({ pending: [], dead: [], budget: after.outbox.loadBudget() });
    for (const id of ['n1', 'n2']) after.add(id, call(1, id));
    expect(after.s.restore({ ...after.outbox.load(), budget: null })).toEqual({
      pending: 3,
      dead: 0,
    });
    await clock.advance(5 * W);
    expect(after.settled.map((x) => x.title)).toEqual(['a', 'b', 'c', 'n1', 'n2']);
  });

  it('a late restore also puts a call that was in flight then, and comes back, after the older ones', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore();
    const failing = () => ({ kind: 'response', status: 503, headers: {}, body: '' }) as const;
    const before = rig(failing, { clock, store, requests: 3 });
    for (const id of ['a', 'b', 'c']) before.add(id, call(1, id));
    await clock.advance(100);
    before.crash();
    // n1 is sent at once (two windows later the budget is free) and refused with a 429 after
    // the late restore took back a, b and c.
    await clock.advance(2 * W);
    let first = true;
    const after = rig(
      (c) => {
        if (c.title === 'n1' && first) {
          first = false;
          return { kind: 'response', status: 429, headers: { 'retry-after': '5' }, body: '' };
        }
        return ok(7);
      },
      { clock, store, requests: 3 },
    );
    after.s.restore({ pending: [], dead: [], budget: after.outbox.loadBudget() });
    after.add('n1', call(1, 'n1'));
    await clock.advance(50);
    after.s.restore({ ...after.outbox.load(), budget: null });
    await clock.advance(5 * W);
    expect(after.settled.map((x) => x.title)).toEqual(['a', 'b', 'c', 'n1']);
  });

  it('keeps a 429 pause across a restart', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore();
    const first = rig(
      () => ({ kind: 'response', status: 429, headers: { 'retry-after': '40' }, body: '' }),
      {
        clock,
        store,
      },
    );
    first.add('a', call(1, 'a'));
    await clock.advance(1_000);
    const second = rig(() => ok(1), { clock, store });
    second.s.restore(second.outbox.load());
    expect(second.s.status().pause?.reason).toMatch(/rate limited/);
    await clock.advance(30_000);
    expect(second.settled).toHaveLength(0);
    await clock.advance(15_000);
    expect(second.settled.map((x) => x.title)).toEqual(['a']);
  });

  it('sets a corrupt record aside and still starts', () => {
    const store = new MemoryStore();
    store.set(
      'outbox:call:good',
      JSON.stringify({
        v: 1,
        state: 'pending',
        job: {
          id: 'good',
          call: call(1, 'good'),
          meta: null,
          enqueuedAt: 0,
          attempts: 0,
          notBefore: 0,
          seq: 3,
          lastError: null,
        },
      }),
    );
    store.set('outbox:call:broken', '{"v":1,"state":"pending","job":');
    store.set('outbox:call:future', JSON.stringify({ v: 2, state: 'pending' }));
    store.set('outbox:budget', 'garbage');
    const restored = new Outbox(store, z.null()).load();
    expect(restored.pending.map((j) => j.id)).toEqual(['good']);
    expect(restored.corrupt).toHaveLength(2);
    expect(restored.budget).toBeNull();
    expect(store.keys('outbox:corrupt:').sort()).toEqual([
      'outbox:corrupt:broken',
      'outbox:corrupt:future',
    ]);
    expect(store.keys('outbox:call:')).toEqual(['outbox:call:good']);
  });

  it('keeps refused calls as dead letters that an operator can retry or drop', async () => {
    let accept = false;
    const r = rig((c) =>
      accept
        ? ok(9)
        : { kind: 'response', status: 422, headers: {}, body: `{"detail":"bad ${c.title}"}` },
    );
    r.add('a', call(1, 'a'));
    r.add('b', call(1, 'b'));
    await r.clock.advance(1_000);
    expect(r.s.deadLetters().map((d) => d.reason)).toEqual(['bad a', 'bad b']);
    expect(r.s.status().deadLetters).toBe(2);
    // Dead letters survive a restart too.
    expect(r.outbox.load().dead.map((d) => d.job.id)).toEqual(['a', 'b']);
    expect(r.s.drop('b')).toBe('dropped');
    expect(r.s.drop('b')).toBe('unknown');
    accept = true;
    expect(r.s.retry('a')).toBe(1);
    await r.clock.advance(1_000);
    expect(r.settled.filter((x) => x.type === 'sent').map((x) => x.title)).toEqual(['a']);
    expect(r.store.keys('outbox:call:')).toEqual([]);
  });

  it('shows a failing call as stalled and sets no timer at all when idle', async () => {
    let up = false;
    const r = rig(() => (up ? ok(1) : { kind: 'timeout' }));
    r.add('a', call(1, 'a'));
    await r.clock.advance(500);
    expect(r.s.status()).toMatchObject({ queued: 1, stalled: 1, inFlight: 0 });
    up = true;
    await r.clock.advance(10 * W);
    expect(r.s.status()).toMatchObject({ queued: 0, stalled: 0, nextSendInMs: null });
    const fired = r.clock.fired;
    await r.clock.advance(10 * W);
    expect(r.clock.fired - fired).toBe(0);
    expect(r.clock.pending()).toBe(0);
  });
});

describe('Scheduler hold and amend', () => {
  it('holds a call until its details arrive, then sends the amended body', async () => {
    const r = rig(() => ok(1));
    r.s.enqueue('a', call(1, 'draft'), null, 1_500);
    await r.clock.advance(500);
    expect(r.arrivals).toHaveLength(0);
    expect(r.s.amend('a', call(1, 'final'))).toBe(true);
    expect(r.store.map.get('outbox:call:a')).toContain('"title":"final"');
    await r.clock.advance(500);
    expect(r.settled.map((x) => x.title)).toEqual(['final']);
    expect(r.s.amend('a', call(1, 'late'))).toBe(false);
  });

  it('sends a held call as it is when the details never come', async () => {
    const r = rig(() => ok(1));
    r.s.enqueue('a', call(1, 'draft'), null, 1_500);
    await r.clock.advance(1_400);
    expect(r.arrivals).toHaveLength(0);
    await r.clock.advance(300);
    expect(r.settled.map((x) => x.title)).toEqual(['draft']);
  });
});

describe('Scheduler during a CAD outage', () => {
  it('probes with one call at a time instead of spending the budget, and sends the most urgent first after', async () => {
    let down = true;
    const r = rig(() => (down ? { kind: 'response', status: 503, headers: {}, body: '' } : ok(1)), {
      requests: 5,
      options: { backoffBaseMs: 10_000, backoffMaxMs: 20_000 },
    });
    r.add('low', call(3, 'low'));
    await r.clock.advance(1_000);
    r.add('mid', call(2, 'mid'));
    r.add('urgent', call(1, 'urgent'));
    await r.clock.advance(60_000);
    // The first failure pauses the key: the two later calls are not thrown at a failing CAD
    // together; probes come one at a time, 5 to 20 s apart.
    expect(r.arrivals.length).toBeLessThanOrEqual(7);
    const gaps = r.arrivals.slice(1).map((t, i) => t - r.arrivals[i]!);
    // The first failure is retried at once (it may be bad luck), and the first new call probes
    // at once too (one failing call alone is no outage); after that, 5 s and more apart.
    expect(Math.min(...gaps.slice(2))).toBeGreaterThanOrEqual(5_000);
    expect(r.s.status().pause?.reason).toMatch(/the CAD is failing \(HTTP 503/);
    down = false;
    await r.clock.advance(60_000);
    expect(r.settled.map((x) => x.title)).toEqual(['urgent', 'mid', 'low']);
  });
});

describe('Scheduler pauses and operators', () => {
  it('keeps a 429 pause when an operator retries everything, and lifts a failure backoff', async () => {
    const limited = rig(() => ({
      kind: 'response',
      status: 429,
      headers: { 'retry-after': '60' },
      body: '',
    }));
    limited.add('a', call(1, 'a'));
    await limited.clock.advance(1_000);
    limited.s.retry('all');
    expect(limited.s.status().pause?.kind).toBe('rate-limit');

    let down = true;
    const failing = rig(() => (down ? { kind: 'timeout' } : ok(1)), {
      options: { backoffBaseMs: 60_000 },
    });
    failing.add('a', call(1, 'a'));
    await failing.clock.advance(1_000);
    expect(failing.s.status().pause?.kind).toBe('backoff');
    down = false;
    failing.s.retry('all');
    await failing.clock.advance(1_000);
    expect(failing.settled.map((x) => x.title)).toEqual(['a']);
  });

  it('forgets a failure backoff across a restart: a restart is a fresh try', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore();
    const first = rig(() => ({ kind: 'response', status: 502, headers: {}, body: '' }), {
      clock,
      store,
      options: { backoffBaseMs: 60_000 },
    });
    first.add('a', call(1, 'a'));
    await clock.advance(1_000);
    expect(first.s.status().pause?.kind).toBe('backoff');
    first.crash();
    const second = rig(() => ok(1), { clock, store });
    second.s.restore(second.outbox.load());
    await clock.advance(500);
    expect(second.settled.map((x) => x.title)).toEqual(['a']);
  });
});

describe('Scheduler with one call the CAD chokes on', () => {
  it('moves the failing call behind the others so they still go out', async () => {
    const r = rig(
      (c) =>
        c.title === 'poison' ? { kind: 'response', status: 500, headers: {}, body: '' } : ok(1),
      {
        requests: 1,
      },
    );
    r.add('p', call(1, 'poison'));
    r.add('a', call(1, 'a'));
    r.add('b', call(1, 'b'));
    await r.clock.advance(5 * W);
    expect(r.settled.map((x) => x.title)).toEqual(['a', 'b']);
    expect(r.s.status()).toMatchObject({ queued: 1, stalled: 1 });
  });
});
