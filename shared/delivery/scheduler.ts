/**
 * Decides what to send and when: the most urgent ready call first (queue.ts), only while the
 * rolling budget has a free slot (limiter.ts), never while the key may not send (health.ts).
 * Refused calls become dead letters (dead-letters.ts); every write that keeps a call safe
 * across a restart goes through the journal (journal.ts). This class ties those parts.
 * Everything that touches the world (HTTP, clock, timers, randomness, storage) is injected,
 * so tests drive it on a fake clock. Idle means idle: with nothing queued no timer is set.
 */
import type { DispatchCall } from '../call/contract';
import { DEFAULT_MAX_DEAD_LETTERS, DeadLetters } from './dead-letters';
import type { Entry } from './fifos';
import type { BudgetGate, Want } from './gate';
import { type BackoffOptions, KeyHealth, type Pause } from './health';
import type { DeadLetter, Job, Payload } from './job';
import { type BudgetState, type Journal, JournalWriter } from './journal';
import { type LimiterOptions, type ReleaseStore, RollingLimiter } from './limiter';
import { classify, type HttpAttempt, type Outcome } from './outcome';
import { CallQueue, newEntry } from './queue';

export type { BudgetState, DeadLetter, Job, Journal, Pause };
export { DEFAULT_MAX_DEAD_LETTERS };

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface SchedulerDeps<M, P extends Payload = DispatchCall> {
  send(call: P, job: Job<M, P>): Promise<HttpAttempt>;
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
  journal: Journal<M, P>;
  /** This lane's rolling log. @default in memory */
  releases?: ReleaseStore;
  /**
   * A budget shared with other servers on the key (sharedBudget): every request also needs
   * its ticket, and this server's own limit follows it. @default none: the lane is ours alone
   */
  gate?: BudgetGate;
  /** The call is done: created (`sent`) or refused for good (`rejected`, now a dead letter). */
  onSettled(job: Job<M, P>, outcome: Extract<Outcome, { type: 'sent' | 'rejected' }>): void;
  /** An attempt failed and the call waits to be tried again. */
  onDelayed(job: Job<M, P>, outcome: Extract<Outcome, { type: 'retry' | 'rate-limited' }>): void;
  /** A request was refused for its key; sending stops until `retry('all')`. */
  onUnauthorized(
    job: Job<M, P>,
    outcome: Extract<Outcome, { type: 'unauthorized' }>,
    /** True for the first refusal of this pause; later ones are calls that were in flight. */
    first: boolean,
  ): void;
  /**
   * The oldest dead letters were removed for good to stay within `maxDeadLetters` (already
   * gone from the journal), for a console line.
   */
  onDeadExpired?(letters: DeadLetter<M, P>[]): void;
  /**
   * Failures in a row began to look like an outage (`started`), or the CAD answered again
   * after one: for staff, once per change.
   */
  onOutage?(started: boolean, reason: string): void;
}

/**
 * The budget of one lane: one CAD endpoint's own allowance (creating calls: 20 per 60 s by
 * default; the notes endpoint has its own). A scheduler drives one lane.
 */
export type LaneBudget = LimiterOptions;

export interface SchedulerOptions extends LaneBudget, BackoffOptions {
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

/** Node fires a longer setTimeout at once (and every time after), so no timer is set longer. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

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

export class Scheduler<M, P extends Payload = DispatchCall> {
  private readonly limiter: RollingLimiter;
  private readonly queue: CallQueue<M, P>;
  private readonly health: KeyHealth;
  private readonly journal: JournalWriter<M, P>;
  private readonly dead: DeadLetters<M, P>;
  private readonly inFlight = new Map<string, Entry<M, P>>();
  private timer: unknown = null;
  /** An outage was reported (onOutage) and its end not yet. */
  private outageSaid = false;
  private timerAt = 0;
  private seq = 0;
  private stopped = false;
  /** A smoothed response time, for the wait estimate players are told. */
  private latencyMs = 300;
  /** Shared budget: a slot granted and not used yet, a request for one out, when to ask again. */
  private ticket: string | null = null;
  private asking = false;
  private askAgainAt = 0;
  /** How many times the gate said to ask again: one that came while asking is not lost. */
  private notified = 0;
  /** The ticket each request in flight holds, to give back when it is answered. */
  private readonly tickets = new Map<string, string>();

  constructor(
    private readonly deps: SchedulerDeps<M, P>,
    private readonly options: SchedulerOptions,
  ) {
    this.limiter = new RollingLimiter(options, deps.releases);
    deps.gate?.subscribe(() => {
      this.notified++;
      this.askAgainAt = 0;
      this.pump();
    });
    this.queue = new CallQueue(options.agingMs);
    this.health = new KeyHealth(options, () => deps.random());
    this.journal = new JournalWriter(deps.journal);
    this.dead = new DeadLetters(
      this.journal,
      options.maxDeadLetters ?? DEFAULT_MAX_DEAD_LETTERS,
      (letters) => deps.onDeadExpired?.(letters),
    );
  }

  /**
   * Takes back what the journal kept across a restart, then starts sending. Returns how
   * many calls and dead letters it took back. Times from the future (a clock that was set
   * back since) are clamped to what they can be at most.
   */
  restore(saved: { pending: Job<M, P>[]; dead: DeadLetter<M, P>[]; budget: BudgetState | null }): {
    pending: number;
    dead: number;
  } {
    const now = this.deps.now();
    // A restore that had to wait (the KVP search failed at first) also finds calls accepted
    // since this run started: those are already here and must not be queued twice.
    const known = (id: string) =>
      this.queue.get(id) !== undefined || this.inFlight.has(id) || this.dead.has(id);
    const late = this.queue.all().sort((a, b) => a.job.seq - b.job.seq);
    const taken = { pending: 0, dead: 0 };
    const pending = [...saved.pending].sort((a, b) => a.seq - b.seq);
    const restored: Entry<M, P>[] = [];
    for (const job of pending) {
      if (known(job.id)) continue;
      // Backoff from before the restart is forgotten: the restart itself took time. A call
      // that was failing starts aging again from now.
      const again = { ...job, notBefore: now };
      restored.push(newEntry(again, again.lastError === null ? again.enqueuedAt : now, now));
      this.seq = Math.max(this.seq, job.seq + 1);
      taken.pending++;
    }
    for (const letter of [...saved.dead].sort((a, b) => a.at - b.at)) {
      if (known(letter.job.id)) continue;
      this.dead.restore(letter, now);
      this.seq = Math.max(this.seq, letter.job.seq + 1);
      taken.dead++;
    }
    // Calls accepted before a late restore were numbered from 0: within a priority they
    // now come after the older calls just taken back, here and in the journal.
    if (taken.pending > 0) for (const entry of late) this.queue.remove(entry);
    for (const entry of restored) this.queue.enqueue(entry, now);
    if (taken.pending > 0) {
      for (const entry of late) {
        entry.job.seq = this.seq++;
        this.journal.save(entry.job);
        this.queue.enqueue(entry, now);
      }
      // One in flight now may come back (a 429, a refused key): it too is newer.
      for (const entry of [...this.inFlight.values()].sort((a, b) => a.job.seq - b.job.seq)) {
        entry.job.seq = this.seq++;
        this.journal.save(entry.job);
      }
    }
    if (saved.budget) {
      this.restoreBudget(saved.budget, now);
      this.deps.gate?.restored(this.limiter.snapshot(now, this.options.maxRequestMs));
    }
    this.dead.expire();
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
  enqueue(id: string, call: P, meta: M, holdMs = 0): EnqueueResult {
    const now = this.deps.now();
    const { waiting, inFlight } = this.queue.atLeastAsUrgent(call.priority);
    if (waiting + inFlight >= this.options.maxQueue) {
      // Room comes when enough of them were answered: those in flight first, then the
      // sends it takes for the rest, each answered after about one response time.
      const sends = Math.max(0, waiting + inFlight - this.options.maxQueue - inFlight);
      return { ok: false, reason: 'full', waitMs: this.estimate(sends, now) + this.latencyMs };
    }
    const job: Job<M, P> = {
      id,
      call,
      meta,
      enqueuedAt: now,
      attempts: 0,
      notBefore: now + holdMs,
      seq: this.seq++,
      lastError: null,
    };
    this.journal.save(job);
    const position = this.queue.countBefore(call.priority, now);
    this.queue.enqueue(newEntry(job, now, now), now);
    const waitMs = Math.max(holdMs, this.estimate(position, now));
    this.pump();
    return { ok: true, position, waitMs };
  }

  /** The body of a call still waiting (not in flight, not done); null otherwise. */
  peek(id: string): P | null {
    return this.queue.get(id)?.job.call ?? null;
  }

  /**
   * Replaces the body of a call still waiting, and keeps any hold it has: a report merged into
   * a call that waits for its caller's street names must not send it without them.
   */
  update(id: string, call: P): boolean {
    const entry = this.queue.get(id);
    if (!entry) return false;
    entry.job.call = call;
    this.journal.save(entry.job);
    return true;
  }

  /**
   * Replaces the body of a call that has not been sent yet and releases it if it was held.
   * False when it is already in flight or done: it then goes (or went) as first queued.
   */
  amend(id: string, call: P): boolean {
    const entry = this.queue.get(id);
    if (!entry) return false;
    const now = this.deps.now();
    this.queue.remove(entry);
    entry.job.call = call;
    entry.job.notBefore = Math.min(entry.job.notBefore, now);
    this.queue.enqueue(entry, now);
    this.journal.save(entry.job);
    this.pump();
    return true;
  }

  /**
   * Puts dead letters back in the queue (`id`, or every one with 'all'). 'all' also resumes
   * after a refused key or a failure backoff, as after an operator fixed the key; a 429 pause
   * stays, since the CAD set it. Returns how many dead letters were re-queued.
   */
  retry(id: string | 'all'): number {
    const letters = this.dead.take(id);
    const now = this.deps.now();
    for (const { job } of letters) {
      const again = { ...job, attempts: 0, notBefore: now, lastError: null };
      this.journal.save(again);
      this.queue.enqueue(newEntry(again, again.enqueuedAt, now), now);
    }
    if (id === 'all') this.health.resume(now);
    this.saveBudget(now);
    this.pump();
    return letters.length;
  }

  /** Removes a queued call or a dead letter for good. A call in flight cannot be recalled. */
  drop(id: string): 'dropped' | 'in-flight' | 'unknown' {
    if (this.inFlight.has(id)) return 'in-flight';
    const entry = this.queue.get(id);
    if (!entry && !this.dead.has(id)) return 'unknown';
    if (entry) this.queue.remove(entry);
    this.dead.delete(id);
    this.health.forget(id);
    this.journal.remove(id);
    this.pump();
    return 'dropped';
  }

  /** Ids of queued, in-flight and dead calls that start with `prefix`, for operators. */
  find(prefix: string): string[] {
    const ids = [...this.queue.ids(), ...this.inFlight.keys(), ...this.dead.ids()];
    return ids.filter((id) => id.startsWith(prefix));
  }

  /** Oldest first. */
  deadLetters(): DeadLetter<M, P>[] {
    return this.dead.list();
  }

  /** Every waiting call in the order it would be sent now (held ones where they stand). */
  waiting(): Job<M, P>[] {
    return this.queue.waiting(this.deps.now());
  }

  /** Waiting calls whose last attempt failed, the longest failing first. */
  stalledCalls(): Job<M, P>[] {
    return this.queue.stalledJobs();
  }

  status(): SchedulerStatus {
    const now = this.deps.now();
    let nextSendInMs: number | null = null;
    if (this.queue.size > 0) {
      nextSendInMs =
        this.timer === null ? (this.health.pause ? null : 0) : Math.max(0, this.timerAt - now);
    }
    const oldest = this.queue.oldest();
    return {
      queued: this.queue.size,
      inFlight: this.inFlight.size,
      stalled: this.queue.stalled,
      deadLetters: this.dead.size,
      usedInWindow: this.limiter.used(now),
      requestsPerWindow: this.limiter.limit,
      windowMs: this.options.windowMs,
      nextSendInMs,
      pause: this.health.activePause(now),
      oldestWaitingMs: oldest ? Math.max(0, now - oldest.job.enqueuedAt) : null,
    };
  }

  private estimate(position: number, now: number): number {
    const pausedFor = this.health.pausedForMs(now);
    return Math.max(pausedFor, this.limiter.estimateStartMs(position, now, this.latencyMs));
  }

  /** The budget and 429 wait the last run saved, moved onto this run's clock. */
  private restoreBudget(budget: BudgetState, now: number): void {
    const { marginMs, maxRequestMs, windowMs } = this.options;
    // Saved on the last run's clock: onto this run's (see BudgetState.skew).
    const skew = budget.skew ?? 0;
    const shift = Number.isFinite(skew) ? skew - ((this.deps.wallNow?.() ?? now) - now) : 0;
    this.limiter.restore(
      budget.releases.map((r) => r + shift),
      now,
      maxRequestMs + marginMs,
    );
    const pause = budget.pause ? { ...budget.pause, until: budget.pause.until + shift } : null;
    this.health.restore(pause, now, windowMs);
  }

  /** During a backoff caused by one call, a healthy call may probe if a slot is free. */
  private mayProbeNow(now: number): boolean {
    return (
      this.health.mayProbe(now) &&
      this.inFlight.size === 0 &&
      this.queue.hasHealthyReady() &&
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
    this.queue.releaseHeld(now);
    const pause = this.health.pause;
    if (pause) {
      if (pause.until === null) {
        this.gateIdle();
        return;
      }
      if (pause.until > now && !this.mayProbeNow(now)) {
        this.gateIdle();
        if (this.queue.size > 0) {
          // A held call may be the other probe once its hold ends.
          const release = this.health.heldMayProbe() ? this.queue.nextReleaseAt() : undefined;
          this.wakeAt(Math.min(pause.until, release ?? pause.until), now);
        }
        return;
      }
      this.health.lift();
    }
    const { gate } = this.deps;
    if (gate) this.limiter.limit = gate.ownLimit();
    let started = false;
    while (this.limiter.canSend(now)) {
      // While the CAD is failing, one probe at a time: its answer decides whether more follow.
      if (this.health.outage && this.inFlight.size > 0) break;
      const entry = this.queue.next(now, this.health.probing);
      if (!entry) break;
      let ticket: string | null = null;
      if (gate) {
        // One slot at a time from the shared budget; its answer pumps again.
        if (this.ticket === null) {
          if (!this.asking && now >= this.askAgainAt) this.ask(gate, this.want(entry, now));
          break;
        }
        ticket = this.ticket;
        this.ticket = null;
      }
      this.start(entry, now, ticket);
      started = true;
    }
    if (gate) {
      // A slot granted for a call that is gone meanwhile goes back at once.
      if (this.ticket !== null) gate.cancel(this.ticket);
      this.ticket = null;
      // While one probe is out for a failing CAD nothing else goes: wait for no one's sake.
      const blocked = this.health.pause !== null || (this.health.outage && this.inFlight.size > 0);
      const head = blocked ? null : this.queue.next(now, this.health.probing);
      gate.publish(head ? this.want(head, now) : null);
    }
    if (started) this.saveBudget(now);
    // Nothing waiting, or a probe is out: its answer pumps again, no timer needed.
    if (this.queue.size === 0 || (this.health.outage && this.inFlight.size > 0)) return;
    const slotAt = this.limiter.nextFreeAt(now);
    // No slot until a response arrives: finishing it pumps again, no timer needed.
    if (slotAt === null) return;
    const readyAt =
      this.queue.readyCount() > 0 ? now : (this.queue.nextReleaseAt() ?? Number.POSITIVE_INFINITY);
    // A request for a shared slot is out (its answer pumps again), or the gate said when to
    // ask again (or that it will say so itself: subscribe).
    if (gate && readyAt <= now && slotAt <= now) {
      if (this.asking || !Number.isFinite(this.askAgainAt)) return;
      // Waiting on other servers: the urgency they read must follow our calls' aging, so wake
      // at the next aging step too (that pump republishes; it asks only once askAgainAt came).
      const agedAt = this.queue.nextAgingAt(now) ?? Number.POSITIVE_INFINITY;
      this.wakeAt(Math.min(this.askAgainAt, agedAt), now);
      return;
    }
    this.wakeAt(Math.max(slotAt, readyAt), now);
  }

  /**
   * Paused: a slot granted meanwhile goes back (its log entry would lapse before the pause
   * ends), and no other server waits behind a call that cannot go.
   */
  private gateIdle(): void {
    const { gate } = this.deps;
    if (!gate) return;
    if (this.ticket !== null) gate.cancel(this.ticket);
    this.ticket = null;
    gate.publish(null);
  }

  private want(entry: Entry<M, P>, now: number): Want {
    return { priority: this.queue.effectivePriority(entry, now), since: entry.job.enqueuedAt };
  }

  private ask(gate: BudgetGate, want: Want): void {
    this.asking = true;
    const notified = this.notified;
    gate
      .reserve(want)
      .catch((): { ok: false; retryAt: number | null } => ({
        ok: false,
        retryAt: this.deps.now() + 1_000,
      }))
      .then((grant) => {
        this.asking = false;
        if (this.stopped) {
          if (grant.ok) gate.cancel(grant.ticket);
          return;
        }
        if (grant.ok) {
          if (this.ticket !== null) gate.cancel(this.ticket);
          this.ticket = grant.ticket;
          this.askAgainAt = 0;
        } else {
          // "Wait to be told" means nothing if the gate told us while this ask was out.
          this.askAgainAt =
            grant.retryAt ?? (this.notified !== notified ? 0 : Number.POSITIVE_INFINITY);
        }
        this.pump();
      });
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

  private start(entry: Entry<M, P>, now: number, ticket: string | null): void {
    const { job } = entry;
    this.queue.takeOff(entry);
    this.limiter.begin(job.id, now);
    if (ticket !== null) this.tickets.set(job.id, ticket);
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

  private finish(entry: Entry<M, P>, startedAt: number, attempt: HttpAttempt): void {
    if (this.stopped) return;
    const { job } = entry;
    const now = this.deps.now();
    this.limiter.end(job.id, now);
    const ticket = this.tickets.get(job.id);
    if (ticket !== undefined) {
      this.tickets.delete(job.id);
      this.deps.gate?.release(ticket);
    }
    this.inFlight.delete(job.id);
    this.queue.landed(entry);
    this.latencyMs = 0.8 * this.latencyMs + 0.2 * Math.max(0, now - startedAt);
    const outcome = classify(attempt, {
      now,
      wallNow: this.deps.wallNow?.() ?? now,
      windowMs: this.options.windowMs,
    });
    switch (outcome.type) {
      case 'sent':
        this.health.answered();
        job.attempts++;
        this.journal.remove(job.id);
        this.deps.onSettled(job, outcome);
        break;
      case 'rejected':
        this.health.answered();
        job.attempts++;
        this.dead.add({ job, reason: outcome.reason, problem: outcome.problem, at: now });
        this.deps.onSettled(job, outcome);
        this.dead.expire();
        break;
      case 'rate-limited':
        // Not counted as a failed attempt: the call was never judged.
        this.health.rateLimited(now, outcome.waitMs, outcome.hint);
        this.queue.enqueue(entry, now);
        this.deps.onDelayed(job, outcome);
        this.journal.save(job);
        break;
      case 'retry':
        // The failed call moves behind the others of its priority and starts aging again,
        // and the next probe is another call, so one call the CAD chokes on cannot hold the
        // rest up.
        job.attempts++;
        job.lastError = outcome.reason;
        job.seq = this.seq++;
        entry.agedFrom = now;
        this.health.failed(job.id, outcome.reason, now);
        this.queue.enqueue(entry, now);
        this.deps.onDelayed(job, outcome);
        this.journal.save(job);
        break;
      case 'unauthorized': {
        this.queue.enqueue(entry, now);
        const first = this.health.refused(outcome.reason);
        this.deps.onUnauthorized(job, outcome, first);
        break;
      }
    }
    // Said once when it starts and once when the CAD answers again: an operator's resume
    // (retry all) is not the CAD answering, and failing on after it is the same outage.
    if (this.health.outage && !this.outageSaid) {
      this.outageSaid = true;
      this.deps.onOutage?.(true, outcome.type === 'retry' ? outcome.reason : outcome.type);
    } else if (this.outageSaid && (outcome.type === 'sent' || outcome.type === 'rejected')) {
      this.outageSaid = false;
      this.deps.onOutage?.(false, 'the CAD answered');
    }

    this.saveBudget(now);
    this.pump();
  }

  private saveBudget(now: number): void {
    this.journal.budget(
      this.limiter.snapshot(now, this.options.maxRequestMs),
      this.health.saved(now),
      now,
      this.deps.wallNow?.() ?? now,
    );
  }
}
