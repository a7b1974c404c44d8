/**
 * Decides what to send and when: the most urgent ready call first (lower priority number,
 * then first come, with aging so a low-priority call cannot wait forever), only while the
 * rolling budget has a free slot, never during a pause. Everything that touches the world
 * (HTTP, clock, timers, randomness, storage) is injected, so tests drive it on a fake clock.
 * Idle means idle: with nothing queued no timer is set.
 */
import type { DispatchCall } from './contract';
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
  /** Wall-clock milliseconds: times are persisted and must mean the same after a restart. */
  now(): number;
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
}

export interface SchedulerOptions extends LimiterOptions {
  /**
   * After a retryable failure the whole key waits up to this long (full jitter); each further
   * failure in a row up to twice as long. @default 2000
   */
  backoffBaseMs: number;
  /** Longest wait between two attempts of one call. @default 300000 */
  backoffMaxMs: number;
  /** Calls waiting or in flight at most; past it new calls are refused. @default 500 */
  maxQueue: number;
  /** Every this many ms of waiting raise a call's priority by one step. @default 120000 */
  agingMs: number;
  /** The request timeout: how late an unanswered request may still reach the CAD. */
  maxRequestMs: number;
}

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
  | { ok: false; reason: 'full' };

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
  private readonly queue: Job<M>[] = [];
  private readonly inFlight = new Map<string, Job<M>>();
  private readonly dead = new Map<string, DeadLetter<M>>();
  private pause: Pause | null = null;
  private timer: unknown = null;
  private timerAt = 0;
  private seq = 0;
  private stopped = false;
  /** Retryable failures in a row, across calls: the CAD's health, for the backoff. */
  private failures = 0;
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
   * many calls and dead letters it took back.
   */
  restore(saved: { pending: Job<M>[]; dead: DeadLetter<M>[]; budget: BudgetState | null }): {
    pending: number;
    dead: number;
  } {
    const now = this.deps.now();
    // A restore that had to wait (the KVP search failed at first) also finds calls accepted
    // since this run started: those are already here and must not be queued twice.
    const known = (id: string) =>
      this.inFlight.has(id) || this.dead.has(id) || this.queue.some((j) => j.id === id);
    const late = [...this.queue].sort((a, b) => a.seq - b.seq);
    const taken = { pending: 0, dead: 0 };
    for (const job of saved.pending) {
      if (known(job.id)) continue;
      // Backoff from before the restart is forgotten: the restart itself took time.
      this.queue.push({ ...job, notBefore: now });
      this.seq = Math.max(this.seq, job.seq + 1);
      taken.pending++;
    }
    for (const letter of saved.dead) {
      if (known(letter.job.id)) continue;
      this.dead.set(letter.job.id, letter);
      this.seq = Math.max(this.seq, letter.job.seq + 1);
      taken.dead++;
    }
    // Calls accepted before a late restore were numbered from 0: within a priority they
    // now come after the older calls just taken back, here and in the journal.
    if (taken.pending > 0) {
      for (const job of late) {
        job.seq = this.seq++;
        this.deps.journal.add(job);
      }
    }
    if (saved.budget) {
      this.limiter.restore(saved.budget.releases, now);
      if (saved.budget.pause && saved.budget.pause.until > now)
        this.pause = { ...saved.budget.pause, kind: 'rate-limit' };
    }
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
   * them if they never do.
   */
  enqueue(id: string, call: DispatchCall, meta: M, holdMs = 0): EnqueueResult {
    if (this.queue.length + this.inFlight.size >= this.options.maxQueue)
      return { ok: false, reason: 'full' };
    const now = this.deps.now();
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
    this.queue.push(job);
    const position = this.queue.filter((j) => j !== job && this.before(j, job, now)).length;
    const waitMs = Math.max(holdMs, this.estimate(position, now));
    this.pump();
    return { ok: true, position, waitMs };
  }

  /**
   * Replaces the body of a call that has not been sent yet and releases it if it was held.
   * False when it is already in flight or done: it then goes (or went) as first queued.
   */
  amend(id: string, call: DispatchCall): boolean {
    const job = this.queue.find((j) => j.id === id);
    if (!job) return false;
    job.call = call;
    job.notBefore = Math.min(job.notBefore, this.deps.now());
    this.deps.journal.add(job);
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
      this.queue.push(again);
    }
    if (id === 'all' && this.pause?.kind !== 'rate-limit') {
      this.pause = null;
      this.failures = 0;
    }
    this.saveBudget(now);
    this.pump();
    return letters.length;
  }

  /** Removes a queued call or a dead letter for good. A call in flight cannot be recalled. */
  drop(id: string): 'dropped' | 'in-flight' | 'unknown' {
    if (this.inFlight.has(id)) return 'in-flight';
    const index = this.queue.findIndex((j) => j.id === id);
    if (index < 0 && !this.dead.has(id)) return 'unknown';
    if (index >= 0) this.queue.splice(index, 1);
    this.dead.delete(id);
    this.deps.journal.remove(id);
    this.pump();
    return 'dropped';
  }

  /** Ids of queued, in-flight and dead calls that start with `prefix`, for operators. */
  find(prefix: string): string[] {
    const ids = [...this.queue.map((j) => j.id), ...this.inFlight.keys(), ...this.dead.keys()];
    return ids.filter((id) => id.startsWith(prefix));
  }

  deadLetters(): DeadLetter<M>[] {
    return [...this.dead.values()];
  }

  waiting(): Job<M>[] {
    const now = this.deps.now();
    return [...this.queue].sort((a, b) => (this.before(a, b, now) ? -1 : 1));
  }

  status(): SchedulerStatus {
    const now = this.deps.now();
    const stalled = this.queue.filter((j) => j.lastError !== null).length;
    let nextSendInMs: number | null = null;
    if (this.queue.length > 0) {
      nextSendInMs =
        this.timer === null ? (this.pause ? null : 0) : Math.max(0, this.timerAt - now);
    }
    const oldest = this.queue.reduce(
      (min, j) => Math.min(min, j.enqueuedAt),
      Number.POSITIVE_INFINITY,
    );
    return {
      queued: this.queue.length,
      inFlight: this.inFlight.size,
      stalled,
      deadLetters: this.dead.size,
      usedInWindow: this.limiter.used(now),
      requestsPerWindow: this.options.requests,
      windowMs: this.options.windowMs,
      nextSendInMs,
      pause:
        this.pause && (this.pause.until === null || this.pause.until > now)
          ? { ...this.pause }
          : null,
      oldestWaitingMs: Number.isFinite(oldest) ? now - oldest : null,
    };
  }

  private estimate(position: number, now: number): number {
    const pausedFor = this.pause ? (this.pause.until ?? now) - now : 0;
    return Math.max(pausedFor, this.limiter.estimateStartMs(position, now, this.latencyMs));
  }

  /** Lower effective priority first, aging included; first come within a priority. */
  private before(a: Job<M>, b: Job<M>, now: number): boolean {
    const pa = this.effectivePriority(a, now);
    const pb = this.effectivePriority(b, now);
    return pa !== pb ? pa < pb : a.seq < b.seq;
  }

  private effectivePriority(job: Job<M>, now: number): number {
    return job.call.priority - Math.floor(Math.max(0, now - job.enqueuedAt) / this.options.agingMs);
  }

  private pump(): void {
    if (this.stopped) return;
    if (this.timer !== null) {
      this.deps.timers.clear(this.timer);
      this.timer = null;
    }
    const now = this.deps.now();
    if (this.pause) {
      if (this.pause.until === null) return;
      if (this.pause.until > now) {
        if (this.queue.length > 0) this.wakeAt(this.pause.until, now);
        return;
      }
      this.pause = null;
    }
    let started = false;
    while (this.limiter.canSend(now)) {
      // While the CAD is failing, one probe at a time: its answer decides whether more follow.
      if (this.failures >= 2 && this.inFlight.size > 0) break;
      const job = this.nextReady(now);
      if (!job) break;
      this.start(job, now);
      started = true;
    }
    if (started) this.saveBudget(now);
    // Nothing waiting, or a probe is out: its answer pumps again, no timer needed.
    if (this.queue.length === 0 || (this.failures >= 2 && this.inFlight.size > 0)) return;
    const slotAt = this.limiter.nextFreeAt(now);
    // No slot until a response arrives: finishing it pumps again, no timer needed.
    if (slotAt === null) return;
    const readyAt = this.queue.reduce(
      (min, j) => Math.min(min, j.notBefore),
      Number.POSITIVE_INFINITY,
    );
    this.wakeAt(Math.max(slotAt, readyAt), now);
  }

  private wakeAt(at: number, now: number): void {
    this.timerAt = at;
    this.timer = this.deps.timers.set(
      () => {
        this.timer = null;
        this.pump();
      },
      Math.max(0, at - now),
    );
  }

  private nextReady(now: number): Job<M> | null {
    let best = -1;
    for (let i = 0; i < this.queue.length; i++) {
      const job = this.queue[i]!;
      if (job.notBefore > now) continue;
      if (best < 0 || this.before(job, this.queue[best]!, now)) best = i;
    }
    return best < 0 ? null : this.queue.splice(best, 1)[0]!;
  }

  private start(job: Job<M>, now: number): void {
    this.limiter.begin(job.id, now);
    this.inFlight.set(job.id, job);
    let attempt: Promise<HttpAttempt>;
    try {
      attempt = this.deps.send(job.call, job);
    } catch (err) {
      attempt = Promise.resolve({ kind: 'network', message: String(err) });
    }
    attempt
      .catch((err: unknown): HttpAttempt => ({ kind: 'network', message: String(err) }))
      .then((result) => this.finish(job, now, result));
  }

  private finish(job: Job<M>, startedAt: number, attempt: HttpAttempt): void {
    if (this.stopped) return;
    const now = this.deps.now();
    this.limiter.end(job.id, now);
    this.inFlight.delete(job.id);
    this.latencyMs = 0.8 * this.latencyMs + 0.2 * Math.max(0, now - startedAt);
    const outcome = classify(attempt, { now, windowMs: this.options.windowMs });
    switch (outcome.type) {
      case 'sent':
        this.failures = 0;
        job.attempts++;
        this.deps.journal.remove(job.id);
        this.deps.onSettled(job, outcome);
        break;
      case 'rejected': {
        // The CAD answered: it is up, whatever it thought of this call.
        this.failures = 0;
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
        }
        this.queue.push(job);
        this.deps.onDelayed(job, outcome);
        // Saved again: attempts, the last error and what the caller was told survive a restart.
        this.deps.journal.add(job);
        break;
      }
      case 'retry': {
        // A failing CAD fails for every call: back off the whole key, not this call alone, so
        // an outage costs one probe per backoff instead of the budget, and when the CAD is
        // back the most urgent call goes first. The failed call moves behind the others of
        // its priority, so one call the CAD chokes on cannot hold the rest up.
        job.attempts++;
        job.lastError = outcome.reason;
        job.seq = this.seq++;
        this.failures++;
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
          this.pause = {
            until,
            reason: `the CAD is failing (${outcome.reason}); ${this.failures} failure(s) in a row`,
            kind: 'backoff',
          };
        }
        this.queue.push(job);
        this.deps.onDelayed(job, outcome);
        // Saved again: attempts, the last error and what the caller was told survive a restart.
        this.deps.journal.add(job);
        break;
      }
      case 'unauthorized': {
        this.queue.push(job);
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

  private saveBudget(now: number): void {
    const pause =
      this.pause?.kind === 'rate-limit' && this.pause.until !== null
        ? { until: this.pause.until, reason: this.pause.reason }
        : null;
    this.deps.journal.budget({
      releases: this.limiter.snapshot(now, this.options.maxRequestMs),
      pause,
    });
  }
}
