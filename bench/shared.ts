/**
 * Several servers on one API key (issue 13): N servers (1, 2, 3), each a Scheduler with its
 * own SharedBudget (s1..sN) on one Redis, against one simulated CAD key (20 requests per
 * rolling 60 s). Redis is bench/redis-shim.ts: the real budget script in a real Lua VM, on
 * the simulated clock, a 1 ms round trip. Every server gets its part of 500 calls in four
 * bursts within the first minute, each server a different mix of priorities, so global
 * priority shows. Then the same servers without the shared budget, each sure it owns 20 a
 * window, to show what sharing prevents.
 *
 * Two starts: on a fresh log (the burst meets servers that just said hello to an empty Redis,
 * so for one window each sends on its share of the budget) and on a settled one (they shared
 * Redis for over a window before the burst).
 */

import { z } from 'zod';
import { schedulerOptions } from '../sandbox/support/fixtures';
import { SharedBudget } from '../server/budget/shared';
import type { DispatchCall } from '../shared/call/contract';
import { MemoryStore, Outbox } from '../shared/delivery/outbox';
import { Scheduler } from '../shared/delivery/scheduler';
import { LuaScripting, MemoryRedis, REDIS_EPOCH_MS, simulatedRedis } from './redis-shim';
import { prng, SimCad, SimClock } from './sim';

export const SHARED = {
  limit: 20,
  windowMs: 60_000,
  reserve: 2,
  calls: 500,
  servers: [1, 2, 3],
  /** Each server's calls arrive in these bursts (ms after its first), as evenly as they split. */
  bursts: [0, 15_000, 30_000, 45_000],
  /** Server j's bursts after the first come j x this later, so the servers' bursts interleave. */
  staggerMs: 4_000,
  /** Priority mixes (share of 1, 2, 3), server j takes mix j mod 3: s1 mostly 3, s2 mostly 1. */
  mixes: [
    [0.1, 0.3, 0.6],
    [0.6, 0.3, 0.1],
    [0.2, 0.6, 0.2],
  ],
  /** A less urgent call started while a more urgent one waited elsewhere longer than this. */
  inversionMs: 1_000,
  /** The settled start: the burst comes this long after the servers said hello. */
  settledAfterMs: 65_000,
  redisRoundTripMs: 1,
  seed: 31,
};

/**
 * fresh: the burst meets servers that have just said hello to an empty Redis, on their first
 * start ever (nothing saved of the servers seen before). known: the same, but each server
 * saved the count of servers it saw last time (a restart of all of them, or Redis lost its
 * data). settled: they had shared Redis for over a window when the burst came.
 */
export type Start = 'fresh' | 'known' | 'settled';

export interface SharedResult {
  servers: number;
  shared: boolean;
  start: Start;
  calls: number;
  delivered: number;
  requests: number;
  /** From the first call raised to the last created. */
  makespanMs: number;
  /** (ceil(calls / budget) - 1) x window, the budget being the limit less the reserve when shared. */
  optimumMs: number;
  maxInWindow: number;
  count429: number;
  /** Calls started while a more urgent call had waited over inversionMs on another server. */
  inversions: number;
  /** Of those, started while that server was still on its share (a young log). */
  inversionsSettling: number;
  /** The longest a priority-1 call waited until it was created. */
  p1WaitMs: number;
  /** Budget script runs (EVALSHA). */
  redisCalls: number;
  /** Numbers the script wrote as floats ("1.7e+12"): a Lua 5.4 difference. Should be 0. */
  oddNumbers: number;
  /** Warnings the budgets logged other than the fresh-log notice. */
  warnings: string[];
}

interface Record {
  server: number;
  priority: number;
  raisedAt: number;
  attempts: { start: number; end: number; settling: boolean }[];
  createdAt: number | null;
}

const call = (i: number, priority: number): DispatchCall => ({
  origin: 0,
  status: 1,
  priority,
  block: 'Alta St / Integrity Way',
  address: 'Alta St, Downtown',
  postal: '8055',
  title: '911',
  code: '911',
  description: `shots fired near the bank, caller ${i} is hiding behind the counter`,
  notes: [],
  communityUserIds: [`license-${i}`],
});

/** The calls each server gets: index, server, priority, when. Seeded, the same for every run. */
function plan(servers: number, offset: number) {
  const random = prng(SHARED.seed + servers);
  const out: { i: number; server: number; priority: number; at: number }[] = [];
  let i = 0;
  for (let j = 0; j < servers; j++) {
    const mine = Math.floor(SHARED.calls / servers) + (j < SHARED.calls % servers ? 1 : 0);
    const mix = SHARED.mixes[j % SHARED.mixes.length]!;
    for (let k = 0; k < mine; k++) {
      const b = Math.floor((k * SHARED.bursts.length) / mine);
      const at = offset + SHARED.bursts[b]! + (b > 0 ? j * SHARED.staggerMs : 0);
      const r = random();
      const priority = r < mix[0]! ? 1 : r < mix[0]! + mix[1]! ? 2 : 3;
      out.push({ i: i++, server: j, priority, at });
    }
  }
  return out;
}

export async function sharedRun(
  servers: number,
  shared: boolean,
  start: Start = 'fresh',
): Promise<SharedResult> {
  const clock = new SimClock();
  const cad = new SimCad(clock, {
    requests: SHARED.limit,
    windowMs: SHARED.windowMs,
    latency: [80, 400],
    rate5xx: 0,
    rateDrop: 0,
    seed: SHARED.seed + 100 * servers,
  });
  const redis = new MemoryRedis(() => REDIS_EPOCH_MS + clock.now());
  const lua = await LuaScripting.load(redis);
  const network = simulatedRedis(clock, lua, SHARED.redisRoundTripMs);
  const offset = shared && start === 'settled' ? SHARED.settledAfterMs : 0;
  const calls = plan(servers, offset);
  const records: Record[] = calls.map((c) => ({
    server: c.server,
    priority: c.priority,
    raisedAt: c.at,
    attempts: [],
    createdAt: null,
  }));
  const warnings: string[] = [];
  const options = schedulerOptions({
    requests: SHARED.limit,
    windowMs: SHARED.windowMs,
    maxQueue: 10_000,
  });
  let created = 0;
  const budgets: SharedBudget[] = [];
  const schedulers: Scheduler<number>[] = [];
  for (let j = 0; j < servers; j++) {
    let budget: SharedBudget | null = null;
    if (shared) {
      let saved: number | null = start === 'known' ? servers : null;
      budget = new SharedBudget(
        {
          redis: network,
          now: clock.now,
          timers: clock.timers_,
          random: prng(SHARED.seed + 10 + j),
          log: {
            info: () => {},
            warn: (m) => {
              if (!m.includes('Redis held no budget')) warnings.push(`s${j + 1}: ${m}`);
            },
          },
          servers: { load: () => saved, save: (n) => (saved = n) },
        },
        { name: `s${j + 1}`, reserve: SHARED.reserve, keyPrefix: 's911:{bench}:' },
      );
      budgets.push(budget);
    }
    const gate = budget?.lane({
      name: 'calls',
      requests: SHARED.limit,
      windowMs: SHARED.windowMs,
      marginMs: options.marginMs,
      maxRequestMs: options.maxRequestMs,
    });
    const mine = budget;
    const scheduler = new Scheduler<number>(
      {
        send: (_call, job) => {
          const attempt = {
            start: clock.now(),
            end: Number.POSITIVE_INFINITY,
            settling: mine !== null && mine.status().mode !== 'shared',
          };
          records[job.meta]!.attempts.push(attempt);
          return cad.send().then((answer) => {
            attempt.end = clock.now();
            return answer;
          });
        },
        now: clock.now,
        timers: clock.timers_,
        random: prng(SHARED.seed + 20 + j),
        journal: new Outbox(new MemoryStore(), z.number()),
        ...(gate ? { gate } : {}),
        onSettled: (job, outcome) => {
          if (outcome.type !== 'sent') return;
          records[job.meta]!.createdAt = clock.now();
          created++;
        },
        onDelayed: () => {},
        onUnauthorized: () => {},
      },
      options,
    );
    schedulers.push(scheduler);
  }
  for (const budget of budgets) budget.start();
  for (const c of calls) {
    clock.timers_.set(() => {
      schedulers[c.server]!.enqueue(`c${c.i}`, call(c.i, c.priority), c.i);
    }, c.at);
  }
  await clock.run(6 * 3_600_000, () => created === calls.length);
  for (const s of schedulers) s.stop();
  for (const b of budgets) void b.stop();
  lua.close();

  const budgetPerWindow = shared ? SHARED.limit - SHARED.reserve : SHARED.limit;
  const last = Math.max(...records.map((r) => r.createdAt ?? 0));
  const inv = inversions(records, options.agingMs);
  return {
    servers,
    shared,
    start,
    calls: calls.length,
    delivered: created,
    requests: cad.arrivals.length,
    makespanMs: last - offset,
    optimumMs: (Math.ceil(calls.length / budgetPerWindow) - 1) * SHARED.windowMs,
    maxInWindow: cad.maxInAnyWindow(),
    count429: cad.count429,
    inversions: inv.all,
    inversionsSettling: inv.settling,
    p1WaitMs: Math.max(
      0,
      ...records.filter((r) => r.priority === 1).map((r) => (r.createdAt ?? 0) - r.raisedAt),
    ),
    redisCalls: lua.runs,
    oddNumbers: redis.oddNumbers.length,
    warnings,
  };
}

/**
 * Counts the calls whose creating request started while, on another server, a call more
 * urgent at that moment (aging included) had been waiting longer than inversionMs: raised
 * that long ago, not created yet, and no request of its own in flight.
 */
function inversions(records: Record[], agingMs: number): { all: number; settling: number } {
  const urgency = (r: Record, t: number) =>
    r.priority - Math.floor(Math.max(0, t - r.raisedAt) / agingMs);
  let all = 0;
  let settling = 0;
  for (const c of records) {
    const sent = c.attempts.at(-1);
    if (!sent || c.createdAt === null) continue;
    const t = sent.start;
    const mine = urgency(c, t);
    const behind = records.some(
      (d) =>
        d.server !== c.server &&
        d.raisedAt <= t - SHARED.inversionMs &&
        (d.createdAt === null || d.createdAt > t) &&
        !d.attempts.some((a) => a.start <= t && t < a.end) &&
        urgency(d, t) < mine,
    );
    if (behind) {
      all++;
      if (sent.settling) settling++;
    }
  }
  return { all, settling };
}
