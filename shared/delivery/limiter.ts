/**
 * Rolling-window request budget, counted the way the CAD counts: a request is counted when
 * it arrives, which can be any moment between our send and its response. So a slot is held
 * from send until the response (or timeout) plus a margin, and only then starts its window.
 * A new request may start only while fewer than `requests` slots could still be inside the
 * window the CAD will look back over when it arrives. Time is passed in; nothing here reads
 * a clock.
 */
/**
 * A lane's budget: one CAD endpoint's own allowance, counted in its own rolling log (today one
 * lane, creating calls: 20 per rolling 60 s by default).
 */
export interface LimiterOptions {
  /** Requests allowed per window. @default 20 */
  requests: number;
  /** Window length in milliseconds. @default 60000 */
  windowMs: number;
  /** Milliseconds a slot is held after its response, for clock skew and latency. @default 500 */
  marginMs: number;
}

/**
 * Where a budget's rolling log lives: the release times (response + margin) of answered
 * requests. In memory by default; kept behind this interface so a budget several servers
 * share can live elsewhere (Redis, say) without the limiter changing.
 */
export interface ReleaseStore {
  /** Release times still inside the window that ends at `now`, oldest first. */
  snapshot(now: number, windowMs: number): readonly number[];
  /** One more release time, in any order. */
  insert(release: number): void;
  /** Release times saved by an earlier run, in any order. */
  restore(releases: readonly number[]): void;
}

/** A `ReleaseStore` in memory: a sorted list, pruned whenever it is read. */
export class MemoryReleaseStore implements ReleaseStore {
  private released: number[] = [];

  snapshot(now: number, windowMs: number): readonly number[] {
    let drop = 0;
    while (drop < this.released.length && this.released[drop]! + windowMs <= now) drop++;
    if (drop > 0) this.released = this.released.slice(drop);
    return this.released;
  }

  insert(release: number): void {
    insertSorted(this.released, release);
  }

  restore(releases: readonly number[]): void {
    for (const r of releases) insertSorted(this.released, r);
  }
}

export class RollingLimiter {
  /** Requests sent and not answered yet: their arrival time at the CAD is unknown. */
  private readonly inFlight = new Map<string, number>();
  /**
   * Requests this limiter lets into a window: `options.requests`, unless a budget shared with
   * other servers leaves this server less for now (its share while Redis is away).
   */
  limit: number;

  constructor(
    private readonly options: LimiterOptions,
    /** The rolling log of answered requests. @default in memory */
    private readonly store: ReleaseStore = new MemoryReleaseStore(),
  ) {
    this.limit = options.requests;
  }

  /** Slots that count against a request starting now. */
  used(now: number): number {
    return this.inFlight.size + this.released(now).length;
  }

  canSend(now: number): boolean {
    return this.used(now) < this.limit;
  }

  begin(id: string, now: number): void {
    this.inFlight.set(id, now);
  }

  /** The response (or timeout) for `id` arrived at `now`. */
  end(id: string, now: number): void {
    if (!this.inFlight.delete(id)) return;
    this.store.insert(now + this.options.marginMs);
  }

  inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * The earliest time a slot frees up; `now` when one is free; null when only responses
   * still in flight can free one (their end is unknown, so the sender waits for them).
   */
  nextFreeAt(now: number): number | null {
    const used = this.used(now);
    if (used < this.limit) return now;
    const need = used - this.limit + 1;
    const release = this.released(now)[need - 1];
    return release === undefined ? null : release + this.options.windowMs;
  }

  /**
   * Milliseconds until the `k`-th next request (0 = the next one) could start, assuming every
   * request takes `latencyMs` to answer. An estimate for players, not a schedule. Its cost
   * does not grow with `k`: once the slots held now are spent, the pattern repeats, each start
   * one window plus one answer plus the margin after the start `requests` places before it.
   */
  estimateStartMs(k: number, now: number, latencyMs: number): number {
    const { windowMs, marginMs } = this.options;
    // At least one: a share of 0 (waiting for Redis) still gives an estimate, not a hang.
    const requests = Math.max(1, this.limit);
    const hold = latencyMs + marginMs;
    const releases = [
      ...this.released(now),
      ...[...this.inFlight.values()].map(() => now + hold),
    ].sort((a, b) => a - b);
    // Played out one request at a time only until the repeating pattern has set in.
    const last = Math.min(k, releases.length + 2 * requests);
    const starts: number[] = [];
    let t = now;
    let first = 0;
    for (let j = 0; j <= last; j++) {
      while (releases.length - first >= requests) {
        t = Math.max(t, releases[first]! + windowMs);
        first++;
        while (first < releases.length && releases[first]! + windowMs <= t) first++;
      }
      starts.push(t);
      insertSorted(releases, t + hold);
    }
    if (k <= last) return starts[k]! - now;
    const base = last - requests + 1;
    const rounds = Math.floor((k - base) / requests);
    return starts[base + ((k - base) % requests)]! + rounds * (hold + windowMs) - now;
  }

  /**
   * Release times for persistence. A request still in flight may reach the CAD as late as
   * its timeout, so it is saved as released at start + `maxRequestMs` + margin: a crash
   * then cannot make its slot look free too early.
   */
  snapshot(now: number, maxRequestMs: number): number[] {
    const released = this.released(now);
    const open = [...this.inFlight.values()].map(
      (start) => start + maxRequestMs + this.options.marginMs,
    );
    return [...released, ...open].sort((a, b) => a - b);
  }

  /**
   * Takes back what `snapshot` saved. No saved release can be later than `now + maxAheadMs`
   * (a request still in flight when it was saved: its timeout plus the margin); one that is
   * came from a clock that was ahead, and is counted from that bound, so it delays sending by
   * at most one window instead of the size of the clock step.
   */
  restore(releases: readonly number[], now: number, maxAheadMs = Number.POSITIVE_INFINITY): void {
    this.store.restore(
      releases.filter((r) => Number.isFinite(r)).map((r) => Math.min(r, now + maxAheadMs)),
    );
  }

  /** Releases still inside the window that ends at `now`, oldest first. */
  private released(now: number): readonly number[] {
    return this.store.snapshot(now, this.options.windowMs);
  }
}

/** Inserts into an ascending list; new values are usually the largest, so it looks from the end. */
function insertSorted(list: number[], value: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1]! > value) i--;
  list.splice(i, 0, value);
}
