/**
 * Key health: whether the API key may send now. Three reasons it may not: the CAD said 429
 * (wait what it said; kept across a restart), the CAD refused the key (until an operator says
 * `retry`), or the CAD is failing (back off, with jitter, after enough failures in a row).
 * It also knows which calls are failing, and so whether another call may probe during a
 * backoff. Time and randomness are passed in.
 */

/** One failure can be bad luck (a CAD failing a few percent of requests); this many in a row
 * look like an outage: only then does the key back off, and send one probe at a time. */
export const OUTAGE_AFTER_FAILURES = 2;

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

/** A 429 pause as the journal keeps it. */
export interface SavedPause {
  until: number;
  reason: string;
}

export interface BackoffOptions {
  /**
   * After a retryable failure the whole key waits up to this long (full jitter); each further
   * failure in a row up to twice as long. @default 2000
   */
  backoffBaseMs: number;
  /** Longest wait between two attempts of one call. @default 300000 */
  backoffMaxMs: number;
}

export class KeyHealth {
  private current: Pause | null = null;
  /**
   * When the CAD's last 429 wait ends. Kept apart from the pause: a failure backoff may take
   * over the pause, but no probe goes out before this, and a restart keeps it.
   */
  private rateLimitUntil = 0;
  /** Retryable failures in a row, across calls: the CAD's health, for the backoff. */
  private failures = 0;
  /**
   * The calls those failures came from. While there is only one, the CAD may be fine and that
   * call the problem: another call may probe at once instead of waiting out the backoff.
   */
  private readonly failing = new Set<string>();

  /** @param random [0, 1), for backoff jitter */
  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number,
  ) {}

  /** The pause set last, possibly over already (see `lift`). */
  get pause(): Pause | null {
    return this.current;
  }

  /** The pause still in force at `now`, as a copy for a status report. */
  activePause(now: number): Pause | null {
    const p = this.current;
    return p && (p.until === null || p.until > now) ? { ...p } : null;
  }

  /** How long the pause still holds (0 without one; an open-ended one counts as 0). */
  pausedForMs(now: number): number {
    return this.current ? (this.current.until ?? now) - now : 0;
  }

  /** Failures in a row look like an outage: one probe at a time. */
  get outage(): boolean {
    return this.failures >= OUTAGE_AFTER_FAILURES;
  }

  /** After a failure the next request is a probe: a call that has not failed goes first. */
  get probing(): boolean {
    return this.failures !== 0;
  }

  /**
   * During a backoff caused by a single call, when the CAD's own wait is over, another call
   * may probe: that one call may be the problem, not the CAD.
   */
  mayProbe(now: number): boolean {
    return this.heldMayProbe() && now >= this.rateLimitUntil;
  }

  /** A backoff caused by a single call: a held call may be the other probe once released. */
  heldMayProbe(): boolean {
    return this.current?.kind === 'backoff' && this.failing.size <= 1;
  }

  /** The pause is over (or a probe goes out despite it). */
  lift(): void {
    this.current = null;
  }

  /** A 429 pause saved by the last run, already shifted onto this run's clock. */
  restore(saved: SavedPause | null, now: number, windowMs: number): void {
    if (!saved || !(saved.until > now)) return;
    const until = Math.min(saved.until, now + MAX_RATE_PAUSE_WINDOWS * windowMs);
    this.current = { until, reason: saved.reason, kind: 'rate-limit' };
    this.rateLimitUntil = until;
  }

  /** The operator fixed things: a refused key or a backoff ends; a 429 wait stays. */
  resume(now: number): void {
    if (this.current?.kind === 'rate-limit') return;
    // A 429 wait a backoff took over still holds: the CAD set it.
    this.current =
      this.rateLimitUntil > now
        ? { until: this.rateLimitUntil, reason: 'rate limited by the CAD', kind: 'rate-limit' }
        : null;
    this.failures = 0;
    this.failing.clear();
  }

  /** The call left for good (dropped): it no longer counts as one of the failing. */
  forget(id: string): void {
    this.failing.delete(id);
  }

  /** The CAD answered (created or refused the call): it is up, whatever it thought of it. */
  answered(): void {
    this.failures = 0;
    this.failing.clear();
  }

  /**
   * A 429: someone else spends this key's budget too, so everything stops, not just this
   * call. A refused key (open-ended pause) stays in force.
   */
  rateLimited(now: number, waitMs: number, hint: string): void {
    if (this.current?.until === null) return;
    const until = Math.max(now + waitMs, this.current?.until ?? 0);
    this.current = { until, reason: `rate limited by the CAD (${hint})`, kind: 'rate-limit' };
    this.rateLimitUntil = Math.max(this.rateLimitUntil, now + waitMs);
  }

  /**
   * A retryable failure of call `id`. A failing CAD fails for every call: back off the whole
   * key, so an outage costs one probe per backoff instead of the budget.
   */
  failed(id: string, reason: string, now: number): void {
    this.failures++;
    this.failing.add(id);
    const cap =
      this.failures < OUTAGE_AFTER_FAILURES
        ? 0
        : Math.min(
            this.options.backoffMaxMs,
            this.options.backoffBaseMs * 2 ** (this.failures - OUTAGE_AFTER_FAILURES),
          );
    // Drawn even without a backoff, so a seeded run draws the same numbers as before.
    const until = now + Math.floor(this.random() * cap);
    if (cap > 0 && this.current?.until !== null && until > (this.current?.until ?? 0)) {
      const whose =
        this.failing.size === 1 ? `, all of call ${id.slice(0, 8)}; others go first` : '';
      this.current = {
        until,
        reason: `the CAD is failing (${reason}); ${this.failures} failure(s) in a row${whose}`,
        kind: 'backoff',
      };
    }
  }

  /** The CAD refused the key: sending stops until `resume`. True for the first refusal. */
  refused(reason: string): boolean {
    // Said once per pause, not once per queued call (later ones were in flight).
    const first = this.current?.until !== null;
    this.current = { until: null, reason: `the CAD refused the API key: ${reason}`, kind: 'key' };
    return first;
  }

  /** What a restart keeps: the CAD's own wait, even while a failure backoff has taken over. */
  saved(now: number): SavedPause | null {
    const p = this.current;
    if (p?.kind === 'rate-limit' && p.until !== null) return { until: p.until, reason: p.reason };
    return this.rateLimitUntil > now
      ? { until: this.rateLimitUntil, reason: 'rate limited by the CAD' }
      : null;
  }
}
