/**
 * Decides what to send and when: the most urgent ready call first (lower priority number,
 * then first come, with aging so a low-priority call cannot wait forever), only while the
 * rolling budget has a free slot, never during a pause. Everything that touches the world
 * (HTTP, clock, timers, randomness, storage) is injected, so tests drive it on a fake clock.
 * Idle means idle: with nothing queued no timer is set.
 *
 * Waiting calls sit in one lane per priority and kind (healthy, stalled, held), each in
 * first-come order. Aging moves a call up one step per `agingMs`, and a lane's calls age in
 * the order they stand, so its first call is its most urgent: picking the next call compares
 * a handful of lane heads, and a new call's place is a binary search per lane. Neither grows
 * with the queue.
 */
import type { DispatchCall } from '../call/contract';
import { type Bucket, type Entry, Heap, Lane } from './lanes';
import { type LimiterOptions, RollingLimiter } from './limiter';
import { classify, type HttpAttempt, type Outcome, type Problem } from './outcome';

export interface Job<M> {
  id: string;
  call: DispatchCall;
  /** Caller data the scheduler carries but never reads (who to tell, for instance). */
  meta: M;
  /** Wall-clock ms when the call was accepted. */
  enqueuedAt: number;
  /** Attempts that reached a verdict other than a 429 or a refused key. */
  attempts: number;
  /** Not before this time: a call held back while its details arrive (see `amend`). */
  notBefore: number;
  /** First come, first served within a priority; survives a restart. */
  seq: number;
  /** Why the last attempt failed, while the call is stalled; null otherwise. */
  lastError: string | null;
}

export interface DeadLetter<M> {
  job: Job<M>;
  reason: string;
  problem: Problem;
  at: number;
}

export interface BudgetState {
  /** Release times of recent requests (see RollingLimiter.snapshot). */
  releases: number[];
  /** A pause with an end (a 429); a refused key is not saved: a restart tries the key again. */
  pause: { until: number; reason: string } | null;
  /**
   * Wall clock minus the scheduler's clock when this was saved. A run's steady clock drifts
   * from the wall clock when the system clock is stepped; the next run starts on the wall
   * clock again and shifts saved times by this, so they keep their real age.
   */
  skew?: number;
}

/** Where calls are kept so that none is lost: every method must be durable when it returns. */
export interface Journal<M> {
  add(job: Job<M>): void;
  remove(id: string): void;
  dead(letter: DeadLetter<M>): void;
  budget(state: BudgetState): void;
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface SchedulerDeps<M> {
  send(call: DispatchCall, job: Job<M>): Promise<HttpAttempt>;
  /**
   * Milliseconds on the wall clock's scale (times are persisted and must mean the same after
   * a restart) that never jump within a run: see `steadyClock`.
   */
  now(): number;
  /** The wall clock, to save `BudgetState.skew`; default: `now`. */
  wallNow?(): number;
  timers: Timers;
  /** [0, 1), for backoff jitter. */
  random(): number;
  journal: Journal<M>;
  /** The call is done: created (`sent`) or refused for good (`rejected`, now a dead letter). */
  onSettled(job: Job<M>, outcome: Extract<Outcome, { type: 'sent' | 'rejected' }>): void;
  /** An attempt failed and the call waits to be tried again. */
  onDelayed(job: Job<M>, outcome: Extract<Outcome, { type: 'retry' | 'rate-limited' }>): void;
  /** A request was refused for its key; sending stops until `retry('all')`. */
  onUnauthorized(
    job: Job<M>,
    outcome: Extract<Outcome, { type: 'unauthorized' }>,
    /** True for the first refusal of this pause; later ones are calls that were in flight. */
    first: boolean,
  ): void;
  /**
   * The oldest dead letters were removed for good to stay within `maxDeadLetters` (already
   * gone from the journal), for a console line.
   */
  onDeadExpired?(letters: DeadLetter<M>[]): void;
}

export interface SchedulerOptions extends LimiterOptions {
  /**
   * After a retryable failure the whole key waits up to this long (full jitter); each further
   * failure in a row up to twice as long. @default 2000
   */
  backoffBaseMs: number;
  /** Longest wait between two attempts of one call. @default 300000 */
  backoffMaxMs: number;
  /**
   * Calls waiting or in flight at most, counted per urgency: a new call is refused only when
   * this many calls at least as urgent as it are waiting, so a backlog of less urgent calls
   * never keeps out a more urgent one. @default 500
   */
  maxQueue: number;
  /** Every this many ms of waiting raise a call's priority by one step. @default 120000 */
  agingMs: number;
  /** The request timeout: how late an unanswered request may still reach the CAD. */
  maxRequestMs: number;
  /** Dead letters kept at most; past it the oldest expire. @default 200 */
  maxDeadLetters?: number;
}

export const DEFAULT_MAX_DEAD_LETTERS = 200;

/** Node fires a longer setTimeout at once (and every time after), so no timer is set longer. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The longest 429 pause classify() sets, in windows (outcome.ts, MAX_WINDOWS): a saved pause
 * that ends later than this after a restart was written by a clock that was ahead.
 */
const MAX_RATE_PAUSE_WINDOWS = 5;

export interface Pause {
  /** null: until an operator says `retry`. */
  until: number | null;
  reason: string;
  /**
   * 'rate-limit' (a 429: kept across a restart, the CAD said so), 'backoff' (the CAD is
   * failing: a restart tries again at once), 'key' (the key was refused).
   */
  kind: 'rate-limit' | 'backoff' | 'key';
}

export type EnqueueResult =
  | { ok: true; position: number; waitMs: number }
  /** waitMs: roughly when a call this urgent would be taken. */
  | { ok: false; reason: 'full'; waitMs: number };

export interface SchedulerStatus {
  queued: number;
  inFlight: number;
  /** Queued calls whose last attempt failed and that wait for a retry. */
  stalled: number;
  deadLetters: number;
  usedInWindow: number;
  requestsPerWindow: number;
  windowMs: number;
  /** ms until the next send is due; 0 when one could go now; null when nothing is waiting. */
  nextSendInMs: number | null;
  pause: Pause | null;
  oldestWaitingMs: number | null;
}

export class Scheduler<M> {
  private readonly limiter: RollingLimiter;
  /** One per priority in use, most urgent first. */
  private readonly buckets: Bucket<M>[] = [];
  /** Every waiting call (in a lane) by id. */
  private readonly entries = new Map<string, Entry<M>>();
  private readonly inFlight = new Map<string, Entry<M>>();
  private readonly dead = new Map<string, DeadLetter<M>>();
  /** Held calls by when they may go; entries that left the held lane are skipped lazily. */
  private readonly held = new Heap<Entry<M>>((a, b) => a.job.notBefore < b.job.notBefore);
  /** Waiting calls by acceptance time, for `oldestWaitingMs`; left ones are skipped lazily. */
  private readonly oldest = new Heap<Entry<M>>((a, b) => a.job.enqueuedAt < b.job.enqueuedAt);
  private stalledCount = 0;
  private pause: Pause | null = null;
  /**
   * When the CAD's last 429 wait ends. Kept apart from `pause`: a failure backoff may take
   * over the pause, but no probe goes out before this, and a restart keeps it.
   */
  private rateLimitUntil = 0;
  private timer: unknown = null;
  private timerAt = 0;
  private seq = 0;
  private stopped = false;
  /** Retryable failures in a row, across calls: the CAD's health, for the backoff. */
  private failures = 0;
  /**
   * The calls those failures came from. While there is only one, the CAD may be fine and that
   * call the problem: another call may probe at once instead of waiting out the backoff.
   */
  private readonly failing = new Set<string>();
  /** A smoothed response time, for the wait estimate players are told. */
  private latencyMs = 300;

  constructor(
    private readonly deps: SchedulerDeps<M>,
    private readonly options: SchedulerOptions,
  ) {
    this.limiter = new RollingLimiter(options);
  }

  /**
   * Takes back what the journal kept across a restart, then starts sending. Returns how
   * many calls and dead letters it took back. Times from the future (a clock that was set
   * back since) are clamped to what they can be at most.
   */
  restore(saved: { pending: Job<M>[]; dead: DeadLetter<M>[]; budget: BudgetState | null }): {
    pending: number;
    dead: number;
  } {
    const now = this.deps.now();
    // A restore that had to wait (the KVP search failed at first) also finds calls accepted
    // since this run started: those are already here and must not be queued twice.
    const known = (id: string) =>
      this.entries.has(id) || this.inFlight.has(id) || this.dead.has(id);
    const late = [...this.entries.values()].sort((a, b) => a.job.seq - b.job.seq);
    const taken = { pending: 0, dead: 0 };
    const pending = [...saved.pending].sort((a, b) => a.seq - b.seq);
    const restored: Entry<M>[] = [];
    for (const job of pending) {
      if (known(job.id)) continue;
      // Backoff from before the restart is forgotten: the restart itself took time. A call
      // that was failing starts aging again from now.
      const again = { ...job, notBefore: now };
      restored.push(this.entry(again, again.lastError === null ? again.enqueuedAt : now, now));
      this.seq = Math.max(this.seq, job.seq + 1);
      taken.pending++;
    }
    for (const letter of [...saved.dead].sort((a, b) => a.at - b.at)) {
      if (known(letter.job.id)) continue;
      // Written by a clock that was ahead: not newer than anything refused from now on.
      this.dead.set(letter.job.id, { ...letter, at: Math.min(letter.at, now) });
      this.seq = Math.max(this.seq, letter.job.seq + 1);
      taken.dead++;
    }
    // Calls accepted before a late restore were numbered from 0: within a priority they
    // now come after the older calls just taken back, here and in the journal.
    if (taken.pending > 0) for (const entry of late) this.unplace(entry);
    for (const entry of restored) this.place(entry, now);
    if (taken.pending > 0) {
      for (const entry of late) {
        entry.job.seq = this.seq++;
        this.deps.journal.add(entry.job);
        this.place(entry, now);
      }
      // One in flight now may come back (a 429, a refused key): it too is newer.
      for (const entry of [...this.inFlight.values()].sort((a, b) => a.job.seq - b.job.seq)) {
        entry.job.seq = this.seq++;
        this.deps.journal.add(entry.job);
      }
    }
    if (saved.budget) {
      const { marginMs, maxRequestMs, windowMs } = this.options;
      // Saved on the last run's clock: onto this run's (see BudgetState.skew).
      const skew = saved.budget.skew ?? 0;
      const shift = Number.isFinite(skew) ? skew - ((this.deps.wallNow?.() ?? now) - now) : 0;
      this.limiter.restore(
        saved.budget.releases.map((r) => r + shift),
        now,
        maxRequestMs + marginMs,
      );
      const pause = saved.budget.pause ? { ...saved.budget.pause } : null;
      if (pause) pause.until += shift;
      if (pause && pause.until > now) {
        const until = Math.min(pause.until, now + MAX_RATE_PAUSE_WINDOWS * windowMs);
        this.pause = { until, reason: pause.reason, kind: 'rate-limit' };
        this.rateLimitUntil = until;
      }
    }
    this.expireDead();
    this.pump();
    return taken;
  }

  /**
   * Stops for good (the resource is stopping): no timer stays behind, and answers that
   * arrive later change nothing, so their calls stay pending in the journal and go out
   * again after the restart (at-least-once).
   */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.deps.timers.clear(this.timer);
    this.timer = null;
  }

  /**
   * Queues a call durably and returns its place (0 = next) and when it should start. A call
   * can be held back for `holdMs` while details arrive (see `amend`); it goes out without
   * them if they never do. Refused only when `maxQueue` calls at least as urgent are waiting;
   * the refusal says roughly when there will be room.
   */
  enqueue(id: string, call: DispatchCall, meta: M, holdMs = 0): EnqueueResult {
    const now = this.deps.now();
    const { waiting, inFlight } = this.atLeastAsUrgent(call.priority);
    if (waiting + inFlight >= this.options.maxQueue) {
      // Room comes when enough of them were answered: those in flight first, then the
      // sends it takes for the rest, each answered after about one response time.
      const sends = Math.max(0, waiting + inFlight - this.options.maxQueue - inFlight);
      return { ok: false, reason: 'full', waitMs: this.estimate(sends, now) + this.latencyMs };
    }
    const job: Job<M> = {
      id,
      call,
      meta,
      enqueuedAt: now,
      attempts: 0,
      notBefore: now + holdMs,
      seq: this.seq++,
      lastError: null,
    };
    // Durable before anyone is told it was received; a throw here means nothing was accepted.
    this.deps.journal.add(job);
    const position = this.countBefore(call.priority, now);
    this.place(this.entry(job, now, now), now);
    const waitMs = Math.max(holdMs, this.estimate(position, now));
    this.pump();
    return { ok: true, position, waitMs };
  }

  /**
   * Replaces the body of a call that has not been sent yet and releases it if it was held.
   * False when it is already in flight or done: it then goes (or went) as first queued.
   */
  amend(id: string, call: DispatchCall): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    const now = this.deps.now();
    this.unplace(entry);
    entry.job.call = call;
    entry.job.notBefore = Math.min(entry.job.notBefore, now);
    this.place(entry, now);
    this.deps.journal.add(entry.job);
    this.pump();
    return true;
  }

  /**
   * Puts dead letters back in the queue (`id`, or every one with 'all'). 'all' also resumes
   * after a refused key or a failure backoff, as after an operator fixed the key; a 429 pause
   * stays, since the CAD set it. Returns how many dead letters were re-queued.
   */
  retry(id: string | 'all'): number {
    const letters =
      id === 'all' ? [...this.dead.values()] : [this.dead.get(id)].filter((l) => l !== undefined);
    const now = this.deps.now();
    for (const { job } of letters) {
      this.dead.delete(job.id);
      const again = { ...job, attempts: 0, notBefore: now, lastError: null };
      this.deps.journal.add(again);
      this.place(this.entry(again, again.enqueuedAt, now), now);
    }
    if (id === 'all' && this.pause?.kind !== 'rate-limit') {
      // A 429 wait a backoff took over still holds: the CAD set it.
      this.pause =
        this.rateLimitUntil > now
          ? { until: this.rateLimitUntil, reason: 'rate limited by the CAD', kind: 'rate-limit' }
          : null;
      this.failures = 0;
      this.failing.clear();
    }
    this.saveBudget(now);
    this.pump();
    return letters.length;
  }

  /** Removes a queued call or a dead letter for good. A call in flight cannot be recalled. */
  drop(id: string): 'dropped' | 'in-flight' | 'unknown' {
    if (this.inFlight.has(id)) return 'in-flight';
    const entry = this.entries.get(id);
    if (!entry && !this.dead.has(id)) return 'unknown';
    if (entry) this.unplace(entry);
    this.dead.delete(id);
    this.failing.delete(id);
    this.deps.journal.remove(id);
    this.pump();
    return 'dropped';
  }

  /** Ids of queued, in-flight and dead calls that start with `prefix`, for operators. */
  find(prefix: string): string[] {
    const ids = [...this.entries.keys(), ...this.inFlight.keys(), ...this.dead.keys()];
    return ids.filter((id) => id.startsWith(prefix));
  }

  /** Oldest first. */
  deadLetters(): DeadLetter<M>[] {
    return [...this.dead.values()].sort((a, b) => a.at - b.at);
  }

  /** Every waiting call in the order it would be sent now (held ones where they stand). */
  waiting(): Job<M>[] {
    const now = this.deps.now();
    return [...this.entries.values()]
      .sort((a, b) => (this.before(a, b, now) ? -1 : 1))
      .map((e) => e.job);
  }

  /** Waiting calls whose last attempt failed, the longest failing first. */
  stalledCalls(): Job<M>[] {
    const jobs: Job<M>[] = [];
    for (const b of this.buckets) for (const e of b.stalled) jobs.push(e.job);
    return jobs.sort((a, b) => b.attempts - a.attempts || a.enqueuedAt - b.enqueuedAt);
  }

  status(): SchedulerStatus {
    const now = this.deps.now();
    let nextSendInMs: number | null = null;
    if (this.entries.size > 0) {
      nextSendInMs =
        this.timer === null ? (this.pause ? null : 0) : Math.max(0, this.timerAt - now);
    }
    const oldest = this.oldestWaiting();
    return {
      queued: this.entries.size,
      inFlight: this.inFlight.size,
      stalled: this.stalledCount,
      deadLetters: this.dead.size,
      usedInWindow: this.limiter.used(now),
      requestsPerWindow: this.options.requests,
      windowMs: this.options.windowMs,
      nextSendInMs,
      pause:
        this.pause && (this.pause.until === null || this.pause.until > now)
          ? { ...this.pause }
          : null,
      oldestWaitingMs: oldest ? Math.max(0, now - oldest.job.enqueuedAt) : null,
    };
  }

  private estimate(position: number, now: number): number {
    const pausedFor = this.pause ? (this.pause.until ?? now) - now : 0;
    return Math.max(pausedFor, this.limiter.estimateStartMs(position, now, this.latencyMs));
  }

  /** Lower effective priority first, aging included; first come within a priority. */
  private before(a: Entry<M>, b: Entry<M>, now: number): boolean {
    const pa = this.effectivePriority(a, now);
    const pb = this.effectivePriority(b, now);
    return pa !== pb ? pa < pb : a.job.seq < b.job.seq;
  }

  private effectivePriority(entry: Entry<M>, now: number): number {
    const steps = Math.floor(Math.max(0, now - entry.agedFrom) / this.options.agingMs);
    return entry.job.call.priority - steps;
  }

  private entry(job: Job<M>, agedFrom: number, now: number): Entry<M> {
    return { job, agedFrom: Math.min(agedFrom, now), lane: null, indexed: false };
  }

  private bucket(priority: number): Bucket<M> {
    let i = 0;
    while (i < this.buckets.length && this.buckets[i]!.priority < priority) i++;
    const found = this.buckets[i];
    if (found?.priority === priority) return found;
    const bucket = { priority, inFlight: 0 } as Bucket<M>;
    bucket.ready = new Lane(bucket);
    bucket.stalled = new Lane(bucket);
    bucket.held = new Lane(bucket);
    this.buckets.splice(i, 0, bucket);
    return bucket;
  }

  /** Puts a waiting call in its lane. */
  private place(entry: Entry<M>, now: number): void {
    const b = this.bucket(entry.job.call.priority);
    const held = entry.job.notBefore > now;
    const lane = held ? b.held : entry.job.lastError !== null ? b.stalled : b.ready;
    lane.insert(entry);
    entry.lane = lane;
    if (held) {
      this.held.push(entry);
      // Released early (amend) calls stay in the heap until they reach its top: compact.
      if (this.held.size > 2 * this.entries.size + 64)
        this.held.rebuild((e) => e.lane === e.lane?.bucket.held);
    }
    if (lane === b.stalled) this.stalledCount++;
    this.entries.set(entry.job.id, entry);
    if (!entry.indexed) {
      entry.indexed = true;
      this.oldest.push(entry);
      // Calls that left are dropped from the heap lazily, when they reach its top; a call
      // stalled at the top would keep every later one in memory, so now and then compact.
      if (this.oldest.size > 2 * this.entries.size + 64) {
        this.oldest.rebuild((e) => {
          const keep = this.entries.get(e.job.id) === e;
          if (!keep) e.indexed = false;
          return keep;
        });
      }
    }
  }

  private unplace(entry: Entry<M>): void {
    const lane = entry.lane;
    if (!lane) return;
    lane.remove(entry);
    if (lane === lane.bucket.stalled) this.stalledCount--;
    entry.lane = null;
    this.entries.delete(entry.job.id);
  }

  private oldestWaiting(): Entry<M> | undefined {
    for (;;) {
      const top = this.oldest.peek();
      if (!top || this.entries.get(top.job.id) === top) return top;
      this.oldest.pop();
      top.indexed = false;
    }
  }

  /** The held call released first, if any; entries no longer held are dropped on the way. */
  private nextHeld(): Entry<M> | undefined {
    for (;;) {
      const top = this.held.peek();
      if (!top || top.lane === top.lane?.bucket.held) return top;
      this.held.pop();
    }
  }

  /** Held calls whose time has come join their priority's healthy lane. */
  private releaseHeld(now: number): void {
    for (let e = this.nextHeld(); e && e.job.notBefore <= now; e = this.nextHeld()) {
      this.held.pop();
      this.unplace(e);
      this.place(e, now);
    }
  }

  /** Waiting and in-flight calls with this priority or a more urgent one. */
  private atLeastAsUrgent(priority: number): { waiting: number; inFlight: number } {
    let waiting = 0;
    let inFlight = 0;
    for (const b of this.buckets) {
      if (b.priority > priority) break;
      waiting += b.ready.size + b.stalled.size + b.held.size;
      inFlight += b.inFlight;
    }
    return { waiting, inFlight };
  }

  /** Waiting calls that go before a call of `priority` accepted now. */
  private countBefore(priority: number, now: number): number {
    let n = 0;
    for (const b of this.buckets) {
      const lanes = [b.ready, b.stalled, b.held];
      if (b.priority <= priority) {
        for (const lane of lanes) n += lane.size;
      } else {
        // A call of this bucket goes first once it aged (b.priority - priority) steps.
        const t = now - (b.priority - priority) * this.options.agingMs;
        for (const lane of lanes) n += lane.agedBy(t);
      }
    }
    return n;
  }

  private readyCount(): number {
    let n = 0;
    for (const b of this.buckets) n += b.ready.size + b.stalled.size;
    return n;
  }

  private hasHealthyReady(): boolean {
    return this.buckets.some((b) => b.ready.size > 0);
  }

  /**
   * While the key backs off because of a single call, another healthy call may probe now:
   * that one call may be the problem, not the CAD, and must not hold the others up.
   */
  private mayProbeNow(now: number): boolean {
    return (
      this.pause?.kind === 'backoff' &&
      now >= this.rateLimitUntil &&
      this.failing.size <= 1 &&
      this.inFlight.size === 0 &&
      this.hasHealthyReady() &&
      this.limiter.canSend(now)
    );
  }

  private pump(): void {
    if (this.stopped) return;
    if (this.timer !== null) {
      this.deps.timers.clear(this.timer);
      this.timer = null;
    }
    const now = this.deps.now();
    this.releaseHeld(now);
    if (this.pause) {
      if (this.pause.until === null) return;
      if (this.pause.until > now && !this.mayProbeNow(now)) {
        if (this.entries.size > 0) {
          // A held call may be the other probe once its hold ends.
          const held = this.pause.kind === 'backoff' && this.failing.size <= 1;
          const release = held ? this.nextHeld()?.job.notBefore : undefined;
          this.wakeAt(Math.min(this.pause.until, release ?? this.pause.until), now);
        }
        return;
      }
      this.pause = null;
    }
    let started = false;
    while (this.limiter.canSend(now)) {
      // While the CAD is failing, one probe at a time: its answer decides whether more follow.
      if (this.failures >= 2 && this.inFlight.size > 0) break;
      const entry = this.nextReady(now);
      if (!entry) break;
      this.start(entry, now);
      started = true;
    }
    if (started) this.saveBudget(now);
    // Nothing waiting, or a probe is out: its answer pumps again, no timer needed.
    if (this.entries.size === 0 || (this.failures >= 2 && this.inFlight.size > 0)) return;
    const slotAt = this.limiter.nextFreeAt(now);
    // No slot until a response arrives: finishing it pumps again, no timer needed.
    if (slotAt === null) return;
    const readyAt =
      this.readyCount() > 0 ? now : (this.nextHeld()?.job.notBefore ?? Number.POSITIVE_INFINITY);
    this.wakeAt(Math.max(slotAt, readyAt), now);
  }

  private wakeAt(at: number, now: number): void {
    if (!Number.isFinite(at)) return;
    this.timerAt = at;
    this.timer = this.deps.timers.set(
      () => {
        this.timer = null;
        this.pump();
      },
      // A longer timer would fire at once; this one fires early and is simply set again.
      Math.min(MAX_TIMER_MS, Math.max(0, at - now)),
    );
  }

  /**
   * The next call to send: the most urgent lane head. After a failure the next request is a
   * probe, and a probe is a call that has not failed if there is one, so one call the CAD
   * chokes on cannot hold up the rest; failing calls take turns, each moving to the back.
   */
  private nextReady(now: number): Entry<M> | null {
    let best: Entry<M> | null = null;
    const consider = (e: Entry<M> | undefined) => {
      if (e && (best === null || this.before(e, best, now))) best = e;
    };
    for (const b of this.buckets) consider(b.ready.first());
    if (best === null || this.failures === 0) {
      for (const b of this.buckets) consider(b.stalled.first());
    }
    return best;
  }

  private start(entry: Entry<M>, now: number): void {
    const { job } = entry;
    this.unplace(entry);
    this.bucket(job.call.priority).inFlight++;
    this.limiter.begin(job.id, now);
    this.inFlight.set(job.id, entry);
    let attempt: Promise<HttpAttempt>;
    try {
      attempt = this.deps.send(job.call, job);
    } catch (err) {
      attempt = Promise.resolve({ kind: 'network', message: String(err) });
    }
    attempt
      .catch((err: unknown): HttpAttempt => ({ kind: 'network', message: String(err) }))
      .then((result) => this.finish(entry, now, result));
  }

  private finish(entry: Entry<M>, startedAt: number, attempt: HttpAttempt): void {
    if (this.stopped) return;
    const { job } = entry;
    const now = this.deps.now();
    this.limiter.end(job.id, now);
    this.inFlight.delete(job.id);
    this.bucket(job.call.priority).inFlight--;
    this.latencyMs = 0.8 * this.latencyMs + 0.2 * Math.max(0, now - startedAt);
    const outcome = classify(attempt, {
      now,
      wallNow: this.deps.wallNow?.() ?? now,
      windowMs: this.options.windowMs,
    });
    switch (outcome.type) {
      case 'sent':
        this.failures = 0;
        this.failing.clear();
        job.attempts++;
        this.deps.journal.remove(job.id);
        this.deps.onSettled(job, outcome);
        break;
      case 'rejected': {
        // The CAD answered: it is up, whatever it thought of this call.
        this.failures = 0;
        this.failing.clear();
        job.attempts++;
        const letter: DeadLetter<M> = {
          job,
          reason: outcome.reason,
          problem: outcome.problem,
          at: now,
        };
        this.dead.set(job.id, letter);
        this.deps.journal.dead(letter);
        this.deps.onSettled(job, outcome);
        this.expireDead();
        break;
      }
      case 'rate-limited': {
        // Someone else spends this key's budget too: stop everything, not just this call,
        // and do not count it as a failed attempt.
        if (this.pause?.until !== null) {
          const until = Math.max(now + outcome.waitMs, this.pause?.until ?? 0);
          this.pause = {
            until,
            reason: `rate limited by the CAD (${outcome.hint})`,
            kind: 'rate-limit',
          };
          this.rateLimitUntil = Math.max(this.rateLimitUntil, now + outcome.waitMs);
        }
        this.place(entry, now);
        this.deps.onDelayed(job, outcome);
        // Saved again: attempts, the last error and what the caller was told survive a restart.
        this.deps.journal.add(job);
        break;
      }
      case 'retry': {
        // A failing CAD fails for every call: back off the whole key, not this call alone, so
        // an outage costs one probe per backoff instead of the budget, and when the CAD is
        // back the most urgent call goes first. The failed call moves behind the others of
        // its priority and starts aging again, and the next probe is another call, so one
        // call the CAD chokes on cannot hold the rest up.
        job.attempts++;
        job.lastError = outcome.reason;
        job.seq = this.seq++;
        entry.agedFrom = now;
        this.failures++;
        this.failing.add(job.id);
        // One failure can be bad luck (a CAD failing a few percent of requests); two in a row
        // look like an outage, and only then does the key back off.
        const cap =
          this.failures < 2
            ? 0
            : Math.min(
                this.options.backoffMaxMs,
                this.options.backoffBaseMs * 2 ** (this.failures - 2),
              );
        const until = now + Math.floor(this.deps.random() * cap);
        if (cap > 0 && this.pause?.until !== null && until > (this.pause?.until ?? 0)) {
          const whose =
            this.failing.size === 1 ? `, all of call ${job.id.slice(0, 8)}; others go first` : '';
          this.pause = {
            until,
            reason: `the CAD is failing (${outcome.reason}); ${this.failures} failure(s) in a row${whose}`,
            kind: 'backoff',
          };
        }
        this.place(entry, now);
        this.deps.onDelayed(job, outcome);
        // Saved again: attempts, the last error and what the caller was told survive a restart.
        this.deps.journal.add(job);
        break;
      }
      case 'unauthorized': {
        this.place(entry, now);
        // Said once per pause, not once per queued call.
        const first = this.pause?.until !== null;
        this.pause = {
          until: null,
          reason: `the CAD refused the API key: ${outcome.reason}`,
          kind: 'key',
        };
        this.deps.onUnauthorized(job, outcome, first);
        break;
      }
    }
    this.saveBudget(now);
    this.pump();
  }

  /** Keeps the newest `maxDeadLetters`; the rest leave memory and the journal, oldest first. */
  private expireDead(): void {
    const max = this.options.maxDeadLetters ?? DEFAULT_MAX_DEAD_LETTERS;
    if (this.dead.size <= max) return;
    const expired = this.deadLetters().slice(0, this.dead.size - max);
    for (const letter of expired) {
      this.dead.delete(letter.job.id);
      this.deps.journal.remove(letter.job.id);
    }
    this.deps.onDeadExpired?.(expired);
  }

  private saveBudget(now: number): void {
    // The CAD's own wait survives a restart, even while a failure backoff has taken over.
    const pause =
      this.pause?.kind === 'rate-limit' && this.pause.until !== null
        ? { until: this.pause.until, reason: this.pause.reason }
        : this.rateLimitUntil > now
          ? { until: this.rateLimitUntil, reason: 'rate limited by the CAD' }
          : null;
    this.deps.journal.budget({
      releases: this.limiter.snapshot(now, this.options.maxRequestMs),
      pause,
      skew: (this.deps.wallNow?.() ?? now) - now,
    });
  }
}
