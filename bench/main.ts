/**
 * `npm run bench`: deterministic figures on a simulated clock against a simulated CAD that
 * counts like the real one, ours side by side with a model of the official clients, plus
 * CPU and memory per call and idle wakeups. Prints a table; exits 1 if a hard goal fails.
 */

import { z } from 'zod';
import { schedulerOptions } from '../sandbox/support/fixtures';
import { buildCall, type Report } from '../shared/call/build';
import type { DispatchCall } from '../shared/call/contract';
import { commandSchema } from '../shared/config/schema';
import { type KeyValueStore, MemoryStore, Outbox } from '../shared/delivery/outbox';
import type { HttpAttempt } from '../shared/delivery/outcome';
import { parseRetryAfter } from '../shared/delivery/outcome';
import { type Journal, Scheduler, type SchedulerOptions } from '../shared/delivery/scheduler';
import { RIOT, type RiotResult, riot } from './riot';
import { SHARED, type SharedResult, type Start, sharedRun } from './shared';
import { prng, SimCad, SimClock } from './sim';

const LIMIT = 20;
/** One enqueue with 10,000 waiting may cost at most this many times one with 100 waiting. */
const ENQUEUE_GROWTH = 4;
/** 5,000 calls at once must not hold the event loop long enough to time out CAD answers. */
const BURST_GOAL_MS = 500;
const WINDOW = 60_000;
/** The riot with merging on: every report in the CAD this soon after the first. */
const RIOT_GOAL_MS = 75_000;
const options: SchedulerOptions = schedulerOptions({
  requests: LIMIT,
  windowMs: WINDOW,
  maxQueue: 10_000,
});

const command = commandSchema.parse({ name: '911' });
const report = (i: number): Report => ({
  template: { ...command, priority: 1 + (i % 3) },
  description: `shots fired near the bank, caller ${i} is hiding behind the counter`,
  position: { x: 425.1 + i, y: -979.2, z: 30.7 },
  heading: 90,
  names: { street: 'Alta St', crossing: 'Integrity Way', zone: 'Downtown' },
  postal: '8055',
  caller: { name: `Caller ${i}`, playerId: i, communityUserId: `license-${i}` },
  requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
});
const formats = {
  addressFormat: '{street}, {zone}',
  blockFormat: '{street} / {crossing}',
  unknownLocation: '?',
  nearPostal: 'Near postal {postal}',
};
const calls = (n: number): DispatchCall[] =>
  Array.from({ length: n }, (_, i) => {
    const built = buildCall(report(i), formats);
    if (!built.ok) throw new Error(built.error);
    return built.call;
  });

interface Faults {
  rate5xx: number;
  rateDrop: number;
}

/** A fresh clock and CAD; the same seed for ours and theirs, so both meet the same faults. */
function world(n: number, faults: Faults) {
  const clock = new SimClock();
  const cad = new SimCad(clock, {
    requests: LIMIT,
    windowMs: WINDOW,
    latency: [80, 400],
    seed: 7 + n,
    ...faults,
  });
  return { clock, cad };
}

async function ours(n: number, faults: Faults) {
  const { clock, cad } = world(n, faults);
  const random = prng(11 + n);
  let delivered = 0;
  let lastAt = 0;
  const scheduler = new Scheduler<null>(
    {
      send: () => cad.send(),
      now: clock.now,
      timers: clock.timers_,
      random,
      journal: new Outbox(new MemoryStore(), z.null()),
      onSettled: (_job, outcome) => {
        if (outcome.type === 'sent') {
          delivered++;
          lastAt = clock.now();
        }
      },
      onDelayed: () => {},
      onUnauthorized: () => {},
    },
    options,
  );
  for (const [i, call] of calls(n).entries()) scheduler.enqueue(`c${i}`, call, null);
  await clock.run(6 * 3_600_000, () => delivered === n);
  const busy = clock.fired;
  await clock.run(clock.now() + 10 * 60_000);
  return {
    delivered,
    lost: n - delivered,
    makespan: lastAt,
    requests: cad.arrivals.length,
    maxInWindow: cad.maxInAnyWindow(),
    count429: cad.count429,
    idleWakeups: clock.fired - busy,
  };
}

/**
 * The official SDKs' policy: everything at once, a 429 retried at most twice after
 * min(Retry-After, 10 s), nothing else retried, nothing kept.
 */
async function official(n: number, faults: Faults) {
  const { clock, cad } = world(n, faults);
  let delivered = 0;
  let settled = 0;
  let lastAt = 0;
  const attempt = (tries: number): void => {
    void cad.send().then((result: HttpAttempt) => {
      if (result.kind === 'response' && result.status === 429 && tries < 2) {
        const wait = parseRetryAfter(result.headers['retry-after'], clock.now()) ?? 1_000;
        clock.timers_.set(() => attempt(tries + 1), Math.min(wait, 10_000));
        return;
      }
      settled++;
      if (result.kind === 'response' && result.status < 300) {
        delivered++;
        lastAt = clock.now();
      }
    });
  };
  for (let i = 0; i < n; i++) attempt(0);
  await clock.run(6 * 3_600_000, () => settled === n);
  return {
    delivered,
    lost: n - delivered,
    makespan: lastAt,
    maxInWindow: cad.maxInAnyWindow(),
    count429: cad.count429,
  };
}

/** A scheduler whose requests never come back: the budget fills and every later call waits. */
function stuck(journal: Journal<null>, now: () => number) {
  return new Scheduler<null>(
    {
      send: () => new Promise<HttpAttempt>(() => {}),
      now,
      timers: { set: () => 0, clear: () => {} },
      random: Math.random,
      journal,
      onSettled: () => {},
      onDelayed: () => {},
      onUnauthorized: () => {},
    },
    { ...options, maxQueue: 1_000_000 },
  );
}

/**
 * The cost of one enqueue (persist included) with `waiting` calls ahead of it, of mixed
 * priorities and ages: the median of many single enqueues, each undone before the next.
 */
function enqueueCost(waiting: number): number {
  let t = 0;
  const scheduler = stuck(new Outbox(new MemoryStore(), z.null()), () => t);
  const all = calls(200);
  for (let i = 0; i < waiting; i++) {
    t += 25;
    // A quarter held while their street names arrive, as export calls with a player are.
    scheduler.enqueue(`w${i}`, all[i % all.length]!, null, i % 4 === 0 ? 1_500 : 0);
  }
  const samples: number[] = [];
  for (let i = 0; i < 2_001; i++) {
    const call = all[i % all.length]!;
    const start = process.hrtime.bigint();
    scheduler.enqueue(`probe${i}`, call, null);
    samples.push(Number(process.hrtime.bigint() - start) / 1_000);
    scheduler.drop(`probe${i}`);
  }
  return samples.sort((a, b) => a - b)[1_000]!;
}

/**
 * `n` calls raised back to back in one tick (a script looping over an export) while as many
 * wait: the event loop is held for the whole loop. Each call is what the intake does: ask
 * the queue's status (is the line open), build, persist and enqueue, half of them held for
 * their street names.
 */
function burstBlock(n: number): { totalMs: number; longestMs: number } {
  let t = 0;
  const scheduler = stuck(new Outbox(new MemoryStore(), z.null()), () => t);
  const all = calls(200);
  for (let i = 0; i < n; i++) {
    t += 25;
    scheduler.enqueue(`w${i}`, all[i % all.length]!, null, i % 2 === 0 ? 1_500 : 0);
  }
  let longest = 0n;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const one = process.hrtime.bigint();
    scheduler.status();
    const built = buildCall(report(i), formats);
    if (!built.ok) throw new Error(built.error);
    scheduler.enqueue(`b${i}`, built.call, null, i % 2 === 0 ? 1_500 : 0);
    const took = process.hrtime.bigint() - one;
    if (took > longest) longest = took;
  }
  const total = process.hrtime.bigint() - start;
  return { totalMs: Number(total) / 1e6, longestMs: Number(longest) / 1e6 };
}

const optimum = (n: number) => (Math.ceil(n / LIMIT) - 1) * WINDOW;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function cpuAndMemory() {
  const nullJournal: Journal<null> = { add() {}, remove() {}, dead() {}, budget() {} };
  const make = (journal: Journal<null>) => stuck(journal, () => 0);

  // Memory: JS heap per queued call (the KVP copy lives in the server's database, not the heap).
  const gc = (globalThis as { gc?: () => void }).gc;
  const queued = 5_000;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const holder = make(nullJournal);
  for (let i = 0; i < queued; i++) {
    const built = buildCall(report(i), formats);
    if (built.ok)
      holder.enqueue(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, built.call, null);
  }
  gc?.();
  const bytes = (process.memoryUsage().heapUsed - before) / queued;
  const recordBytes = JSON.stringify({
    v: 1,
    state: 'pending',
    job: { id: 'x'.repeat(36), call: calls(1)[0], meta: null },
  }).length;
  // CPU: build + persist + enqueue, with queues up to the default maximum of 500.
  const rounds = 20_000;
  let store: KeyValueStore = new MemoryStore();
  let scheduler = make(new Outbox(store, z.null()));
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    if (i % 500 === 0) {
      store = new MemoryStore();
      scheduler = make(new Outbox(store, z.null()));
    }
    const built = buildCall(report(i), formats);
    if (!built.ok) throw new Error(built.error);
    scheduler.enqueue(`c${i}`, built.call, null);
  }
  const cpuUs = Number(process.hrtime.bigint() - start) / 1_000 / rounds;

  return { cpuUs, bytes, recordBytes, gcExposed: gc !== undefined, kept: holder.status().queued };
}

/** Prints the riot, merging on and off side by side; returns the goals merging on missed. */
function riotTable(on: RiotResult, off: RiotResult): string[] {
  const missed: string[] = [];
  if (on.callsCreated !== RIOT.incidents) missed.push(`${on.callsCreated} calls`);
  if (on.lastInMs > RIOT_GOAL_MS) missed.push(`last report in after ${s(on.lastInMs)}`);
  if (on.calls429 + on.notes429 > 0) missed.push(`${on.calls429 + on.notes429} 429s`);
  if (on.callsMaxInWindow > RIOT.calls || on.notesMaxInWindow > RIOT.notes)
    missed.push('over a window');
  if (on.missing + on.misplaced > 0) missed.push('reports missing or on the wrong call');
  const row = (label: string, a: string | number, b: string | number, goal: string) =>
    `| ${label} | ${a} | ${b} | ${goal} |`;
  const lanes = (r: RiotResult, pick: (r: RiotResult) => [number, number]) => pick(r).join(' / ');
  const perIncident = RIOT.perIncident;
  console.log(
    `\nriot: ${RIOT.incidents * perIncident} reports about ${RIOT.incidents} incidents (${perIncident} players each within ${RIOT.spreadMeters} m, incidents >= ${RIOT.apartMeters / 1000} km apart), all within ${s(RIOT.arrivalsMs)};` +
      `\ncalls lane ${RIOT.calls}, notes lane ${RIOT.notes} per rolling ${s(RIOT.windowMs)}; merge radius ${RIOT.merge.radiusMeters} m, window ${RIOT.merge.windowMs / 60_000} min\n`,
  );
  console.log(
    [
      '| riot | merging on | merging off | goal (merging on) |',
      '| --- | --- | --- | --- |',
      row('calls created', on.callsCreated, off.callsCreated, `${RIOT.incidents}`),
      row('notes sent', on.notesSent, off.notesSent, '-'),
      row('reports folded into a waiting call', on.folded, off.folded, '-'),
      row(
        'first report -> last report in the CAD',
        s(on.lastInMs),
        s(off.lastInMs),
        `<= ${s(RIOT_GOAL_MS)}`,
      ),
      row(
        'soonest with one request per report (CAD windows, report times)',
        s(on.boundMs),
        s(off.boundMs),
        '-',
      ),
      row(
        '429s, calls / notes lane',
        lanes(on, (r) => [r.calls429, r.notes429]),
        lanes(off, (r) => [r.calls429, r.notes429]),
        '0 / 0',
      ),
      row(
        'most requests in any rolling window, calls / notes lane',
        lanes(on, (r) => [r.callsMaxInWindow, r.notesMaxInWindow]),
        lanes(off, (r) => [r.callsMaxInWindow, r.notesMaxInWindow]),
        `<= ${RIOT.calls} / <= ${RIOT.notes}`,
      ),
      row(
        "reports missing / on another incident's call",
        lanes(on, (r) => [r.missing, r.misplaced]),
        lanes(off, (r) => [r.missing, r.misplaced]),
        '0 / 0',
      ),
    ].join('\n'),
  );
  return missed;
}

/**
 * Prints N servers on one key, with and without the shared budget; returns the goals missed:
 * with 2 or 3 servers sharing, every call created within 1.05 x the optimum, 0 429s, never
 * past the limit in any window, and the script writing every number as Redis' Lua 5.1 would.
 */
async function sharedTable(): Promise<string[]> {
  const missed: string[] = [];
  const runs: SharedResult[] = [];
  for (const n of SHARED.servers) {
    for (const start of ['fresh', 'known', 'settled'] as Start[]) {
      // A known count changes nothing for fewer servers than the default guess of 2.
      if (start === 'known' && n < 3) continue;
      runs.push(await sharedRun(n, true, start));
    }
    runs.push(await sharedRun(n, false));
  }
  const starts: Record<Start, string> = {
    fresh: 'fresh log, first start',
    known: 'fresh log, count saved',
    settled: 'settled log',
  };
  const budget = SHARED.limit - SHARED.reserve;
  console.log(
    `\nseveral servers on one key: ${SHARED.calls} calls split across N servers, each in ${SHARED.bursts.length} bursts within the first minute (s1 mostly priority 3, s2 mostly 1, s3 mostly 2);` +
      `\none CAD key, ${SHARED.limit} per rolling ${s(SHARED.windowMs)}; shared budget: reserve ${SHARED.reserve}, Redis = the real budget script in Lua 5.4 (wasmoon) on the simulated clock, ${SHARED.redisRoundTripMs} ms round trip\n`,
  );
  const rows = [
    '| servers | budget | start | delivered | requests | makespan | optimum | ratio | max/window | 429s | inversions (settling) | longest priority-1 wait | Redis calls |',
    `|${' --- |'.repeat(13)}`,
  ];
  for (const r of runs) {
    const ratio = r.makespanMs / r.optimumMs;
    if (r.shared && r.servers >= 2) {
      const what = `${r.servers} servers, ${starts[r.start]}`;
      if (r.delivered < r.calls) missed.push(`${what}: ${r.calls - r.delivered} not created`);
      if (ratio > 1.05) missed.push(`${what}: ratio ${ratio.toFixed(3)}`);
      if (r.count429 > 0) missed.push(`${what}: ${r.count429} 429s`);
      if (r.maxInWindow > SHARED.limit) missed.push(`${what}: ${r.maxInWindow} in a window`);
    }
    if (r.oddNumbers > 0) missed.push(`${r.oddNumbers} numbers written as floats`);
    if (r.warnings.length > 0) missed.push(...r.warnings);
    rows.push(
      `| ${r.servers} | ${r.shared ? `shared (${budget})` : `each alone (${SHARED.limit})`} | ${r.shared ? starts[r.start] : '-'} | ${r.delivered} | ${r.requests} | ${s(r.makespanMs)} | ${s(r.optimumMs)} | ${ratio.toFixed(3)} | ${r.maxInWindow} | ${r.count429} | ${r.inversions} (${r.inversionsSettling}) | ${s(r.p1WaitMs)} | ${r.shared ? r.redisCalls : '-'} |`,
    );
  }
  console.log(rows.join('\n'));
  console.log(
    `\noptimum = (ceil(${SHARED.calls} / budget) - 1) x 60 s, the budget being ${budget} a window shared (the limit less the reserve) and ${SHARED.limit} for servers each alone;` +
      `\nmakespan from the first call raised (settled log: the burst came ${s(SHARED.settledAfterMs)} after the servers said hello) to the last created;` +
      `\nfresh log: for one window every server sends on its share of ${budget}, split by the servers it knows of (at least 2); first start: nothing saved, count saved: each saved the count it saw last time;` +
      `\ninversions: calls started while a more urgent call (aging included) had waited over ${s(SHARED.inversionMs)} on another server, in brackets those sent on a share (young log).`,
  );
  return missed;
}

async function main() {
  // Measured first, before the simulations leave garbage that would blur the heap figure.
  const { cpuUs, bytes, recordBytes, gcExposed } = cpuAndMemory();
  const costs = [100, 1_000, 10_000].map((n) => ({ n, us: enqueueCost(n) }));
  const burst = burstBlock(5_000);
  const rows: string[] = [];
  let failed = false;
  const header =
    '| scenario | N | ours: delivered | requests | makespan | optimum | ratio | ratio to requests sent | max/window | 429s | official: delivered | lost | 429s |';
  rows.push(header, `|${' --- |'.repeat(13)}`);
  for (const [label, faults] of [
    ['healthy CAD', { rate5xx: 0, rateDrop: 0 }],
    ['20 % 5xx, 5 % dropped', { rate5xx: 0.2, rateDrop: 0.05 }],
  ] as const) {
    for (const n of [25, 100, 500]) {
      const a = await ours(n, faults);
      const b = await official(n, faults);
      const ratio = optimum(n) > 0 ? a.makespan / optimum(n) : Number.NaN;
      const healthy = faults.rate5xx === 0;
      if (a.lost > 0 || a.maxInWindow > LIMIT || a.count429 > 0 || (healthy && ratio > 1.05))
        failed = true;
      rows.push(
        `| ${label} | ${n} | ${a.delivered} | ${a.requests} | ${s(a.makespan)} | ${s(optimum(n))} | ${ratio.toFixed(3)} | ${(a.makespan / optimum(a.requests)).toFixed(3)} | ${a.maxInWindow} | ${a.count429} | ${b.delivered} | ${b.lost} | ${b.count429} |`,
      );
      if (a.idleWakeups > 0) failed = true;
    }
  }
  const idle = await ours(25, { rate5xx: 0, rateDrop: 0 });
  console.log(
    'sonoran-911 benchmark: 20 requests per rolling 60 s window, CAD answers in 80-400 ms\n',
  );
  console.log(rows.join('\n'));
  console.log(
    '\noptimum = (ceil(N / 20) - 1) x 60 s, for a CAD that never fails; with failures every failed request spends budget\n' +
      'too, so the last ratio compares with the optimum for the requests actually sent.',
  );
  console.log('');
  console.log(`| measure | value | goal |\n| --- | --- | --- |`);
  console.log(`| CPU per accepted call (build + persist + enqueue) | ${cpuUs.toFixed(1)} µs | - |`);
  console.log(
    `| JS heap per queued call | ${Math.round(bytes)} bytes${gcExposed ? '' : ' (run with --expose-gc for a clean figure)'} | - |`,
  );
  console.log(`| outbox record per call (KVP) | ${recordBytes} bytes | - |`);
  console.log(`| timer wakeups over 10 idle minutes after a burst | ${idle.idleWakeups} | 0 |`);
  const flat = costs[0]!.us * ENQUEUE_GROWTH;
  for (const { n, us } of costs) {
    console.log(
      `| one enqueue (persist included) with ${n.toLocaleString('en-US')} calls waiting | ${us.toFixed(1)} µs | ${n === 100 ? '-' : `<= ${flat.toFixed(1)} µs (${ENQUEUE_GROWTH} x the cost at 100)`} |`,
    );
    if (us > flat) failed = true;
  }
  console.log(
    `| longest event-loop block: 5,000 calls raised back to back in one tick, 5,000 waiting | ${burst.totalMs.toFixed(0)} ms (longest single call ${burst.longestMs.toFixed(2)} ms) | <= ${BURST_GOAL_MS} ms |`,
  );
  if (burst.totalMs > BURST_GOAL_MS) failed = true;
  const riotMissed = riotTable(await riot(true), await riot(false));
  if (riotMissed.length > 0) failed = true;
  const sharedMissed = await sharedTable();
  if (sharedMissed.length > 0) failed = true;
  const why = [
    ...(riotMissed.length > 0 ? [`riot: ${riotMissed.join('; ')}`] : []),
    ...(sharedMissed.length > 0 ? [`shared budget: ${sharedMissed.join('; ')}`] : []),
  ];
  console.log(
    failed
      ? `\nGOALS NOT MET${why.length > 0 ? ` (${why.join('; ')})` : ''}`
      : `\nall goals met: ratio <= 1.05, <= 20 per window, 0 lost, 0 429s, 0 idle wakeups, enqueue cost flat in the queue length, a 5,000-call burst <= ${BURST_GOAL_MS} ms, riot merged into ${RIOT.incidents} calls within ${s(RIOT_GOAL_MS)}, 2 and 3 servers sharing a key within 1.05 x the optimum with 0 429s`,
  );
  process.exitCode = failed ? 1 : 0;
}

void main();
