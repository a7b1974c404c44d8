/**
 * Decides what to send and when: the most urgent ready call first (lower priority number,
 * then first come), only while the rolling budget has a free slot, never during a pause.
 * Everything that touches the world (HTTP, clock, timers, randomness) is injected, so tests
 * drive it on a fake clock. Idle means idle: with nothing queued no timer is set.
 */
import type { DispatchCall } from './contract';
import { type LimiterOptions, RollingLimiter } from './limiter';
import { classify, type HttpAttempt, type Outcome } from './outcome';

export interface Job<M> {
  id: string;
  call: DispatchCall;
  /** Caller data the scheduler carries but never reads (who to tell, for instance). */
  meta: M;
  enqueuedAt: number;
  attempts: number;
  /** Not before this time (backoff after a failed attempt). */
  notBefore: number;
  seq: number;
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface SchedulerDeps<M> {
  send(call: DispatchCall, job: Job<M>): Promise<HttpAttempt>;
  now(): number;
  timers: Timers;
  /** [0, 1), for backoff jitter. */
  random(): number;
  /** The call is done: created (`sent`) or refused for good (`rejected`). */
  onSettled(job: Job<M>, outcome: Extract<Outcome, { type: 'sent' | 'rejected' }>): void;
  /** An attempt failed and the call waits to be tried again. */
  onDelayed(job: Job<M>, outcome: Extract<Outcome, { type: 'retry' | 'rate-limited' }>): void;
  /** The key was refused; sending stops until `resume()`. Called once per pause. */
  onUnauthorized(job: Job<M>, outcome: Extract<Outcome, { type: 'unauthorized' }>): void;
}

export interface SchedulerOptions extends LimiterOptions {
  /** First retry waits up to this long (full jitter). @default 2000 */
  backoffBaseMs: number;
  /** Longest wait between two attempts of one call. @default 300000 */
  backoffMaxMs: number;
}

export interface Pause {
  until: number | null;
  reason: string;
}

export class Scheduler<M> {
  private readonly limiter: RollingLimiter;
  private readonly queue: Job<M>[] = [];
  private readonly inFlight = new Map<string, Job<M>>();
  private pause: Pause | null = null;
  private timer: unknown = null;
  private timerAt = 0;
  private seq = 0;
  /** A smoothed response time, for the wait estimate players are told. */
  private latencyMs = 300;

  constructor(
    private readonly deps: SchedulerDeps<M>,
    private readonly options: SchedulerOptions,
  ) {
    this.limiter = new RollingLimiter(options);
  }

  /** Queues a call and returns its place (0 = next) and an estimate of when it starts. */
  enqueue(id: string, call: DispatchCall, meta: M): { position: number; waitMs: number } {
    const now = this.deps.now();
    const job: Job<M> = {
      id,
      call,
      meta,
      enqueuedAt: now,
      attempts: 0,
      notBefore: now,
      seq: this.seq++,
    };
    this.queue.push(job);
    const position = this.queue.filter((j) => j !== job && this.before(j, job)).length;
    const waitMs = this.estimate(position, now);
    this.pump();
    return { position, waitMs };
  }

  /** Lifts a pause (after an operator fixed the key, for instance). */
  resume(): void {
    this.pause = null;
    this.pump();
  }

  status(): {
    queued: number;
    inFlight: number;
    usedInWindow: number;
    nextSendInMs: number | null;
    pause: Pause | null;
  } {
    const now = this.deps.now();
    return {
      queued: this.queue.length,
      inFlight: this.inFlight.size,
      usedInWindow: this.limiter.used(now),
      nextSendInMs: this.timer === null ? null : Math.max(0, this.timerAt - now),
      pause: this.pause,
    };
  }

  private estimate(position: number, now: number): number {
    const pausedFor = this.pause ? (this.pause.until ?? now) - now : 0;
    return Math.max(pausedFor, this.limiter.estimateStartMs(position, now, this.latencyMs));
  }

  /** Lower priority number first; first come within a priority. */
  private before(a: Job<M>, b: Job<M>): boolean {
    return a.call.priority !== b.call.priority ? a.call.priority < b.call.priority : a.seq < b.seq;
  }

  private pump(): void {
    if (this.timer !== null) {
      this.deps.timers.clear(this.timer);
      this.timer = null;
    }
    const now = this.deps.now();
    if (this.pause) {
      if (this.pause.until === null) return;
      if (this.pause.until > now) {
        this.wakeAt(this.pause.until, now);
        return;
      }
      this.pause = null;
    }
    while (this.limiter.canSend(now)) {
      const job = this.nextReady(now);
      if (!job) break;
      this.start(job, now);
    }
    if (this.queue.length === 0) return;
    const slotAt = this.limiter.nextFreeAt(now);
    // No slot until a response arrives: finishing it pumps again, no timer needed.
    if (slotAt === null) return;
    const readyAt = Math.min(...this.queue.map((j) => j.notBefore));
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
      if (best < 0 || this.before(job, this.queue[best]!)) best = i;
    }
    return best < 0 ? null : this.queue.splice(best, 1)[0]!;
  }

  private start(job: Job<M>, now: number): void {
    job.attempts++;
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
    const now = this.deps.now();
    this.limiter.end(job.id, now);
    this.inFlight.delete(job.id);
    this.latencyMs = 0.8 * this.latencyMs + 0.2 * (now - startedAt);
    const outcome = classify(attempt, { now, windowMs: this.options.windowMs });
    switch (outcome.type) {
      case 'sent':
      case 'rejected':
        this.deps.onSettled(job, outcome);
        break;
      case 'rate-limited': {
        // Someone else spends this key's budget too: stop everything, not just this call,
        // and do not count it as a failed attempt.
        job.attempts--;
        const until = now + outcome.waitMs;
        if (this.pause?.until !== null) {
          this.pause = {
            until: Math.max(until, this.pause?.until ?? 0),
            reason: 'rate limited by the CAD',
          };
        }
        this.queue.push(job);
        this.deps.onDelayed(job, outcome);
        break;
      }
      case 'retry': {
        const cap = Math.min(
          this.options.backoffMaxMs,
          this.options.backoffBaseMs * 2 ** (job.attempts - 1),
        );
        job.notBefore = now + Math.floor(this.deps.random() * cap);
        this.queue.push(job);
        this.deps.onDelayed(job, outcome);
        break;
      }
      case 'unauthorized': {
        job.attempts--;
        this.queue.push(job);
        // Say it once per pause, not once per queued call.
        const first = this.pause?.until !== null;
        this.pause = { until: null, reason: `the CAD refused the API key: ${outcome.reason}` };
        if (first) this.deps.onUnauthorized(job, outcome);
        break;
      }
    }
    this.pump();
  }
}
