/**
 * Rolling-window request budget, counted the way the CAD counts: a request is counted when
 * it arrives, which can be any moment between our send and its response. So a slot is held
 * from send until the response (or timeout) plus a margin, and only then starts its window.
 * A new request may start only while fewer than `requests` slots could still be inside the
 * window the CAD will look back over when it arrives. Time is passed in; nothing here reads
 * a clock.
 */
export interface LimiterOptions {
  /** Requests allowed per window. @default 20 */
  requests: number;
  /** Window length in milliseconds. @default 60000 */
  windowMs: number;
  /** Milliseconds a slot is held after its response, for clock skew and latency. @default 500 */
  marginMs: number;
}

export class RollingLimiter {
  /** Requests sent and not answered yet: their arrival time at the CAD is unknown. */
  private readonly inFlight = new Map<string, number>();
  /** Release times (response + margin) still inside some window, oldest first. */
  private released: number[] = [];

  constructor(private readonly options: LimiterOptions) {}

  /** Slots that count against a request starting now. */
  used(now: number): number {
    this.prune(now);
    return this.inFlight.size + this.released.length;
  }

  canSend(now: number): boolean {
    return this.used(now) < this.options.requests;
  }

  begin(id: string, now: number): void {
    this.inFlight.set(id, now);
  }

  /** The response (or timeout) for `id` arrived at `now`. */
  end(id: string, now: number): void {
    if (!this.inFlight.delete(id)) return;
    this.insert(now + this.options.marginMs);
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
    if (used < this.options.requests) return now;
    const need = used - this.options.requests + 1;
    const release = this.released[need - 1];
    return release === undefined ? null : release + this.options.windowMs;
  }

  /**
   * Milliseconds until the `k`-th next request (0 = the next one) could start, assuming every
   * request takes `latencyMs` to answer. An estimate for players, not a schedule. Its cost
   * does not grow with `k`: once the slots held now are spent, the pattern repeats, each start
   * one window plus one answer plus the margin after the start `requests` places before it.
   */
  estimateStartMs(k: number, now: number, latencyMs: number): number {
    const { requests, windowMs, marginMs } = this.options;
    this.prune(now);
    const hold = latencyMs + marginMs;
    const releases = [...this.released, ...[...this.inFlight.values()].map(() => now + hold)].sort(
      (a, b) => a - b,
    );
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
    this.prune(now);
    const open = [...this.inFlight.values()].map(
      (start) => start + maxRequestMs + this.options.marginMs,
    );
    return [...this.released, ...open].sort((a, b) => a - b);
  }

  /**
   * Takes back what `snapshot` saved. No saved release can be later than `now + maxAheadMs`
   * (a request still in flight when it was saved: its timeout plus the margin); one that is
   * came from a clock that was ahead, and is counted from that bound, so it delays sending by
   * at most one window instead of the size of the clock step.
   */
  restore(releases: readonly number[], now: number, maxAheadMs = Number.POSITIVE_INFINITY): void {
    for (const r of releases) if (Number.isFinite(r)) this.insert(Math.min(r, now + maxAheadMs));
    this.prune(now);
  }

  private insert(release: number): void {
    let i = this.released.length;
    while (i > 0 && this.released[i - 1]! > release) i--;
    this.released.splice(i, 0, release);
  }

  private prune(now: number): void {
    let drop = 0;
    while (drop < this.released.length && this.released[drop]! + this.options.windowMs <= now)
      drop++;
    if (drop > 0) this.released = this.released.slice(drop);
  }
}

/** Inserts into an ascending list; new values are usually the largest, so it looks from the end. */
function insertSorted(list: number[], value: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1]! > value) i--;
  list.splice(i, 0, value);
}
