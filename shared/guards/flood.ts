/**
 * Per-key token buckets: a burst of `capacity` events, then one every `refillMs`. Checking
 * costs one map lookup, so a client sending hundreds of events a second costs next to
 * nothing; what it sends past the bucket is dropped before any parsing.
 */
export class FloodGuard {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly capacity: number,
    private readonly refillMs: number,
  ) {}

  allow(key: string, now: number): boolean {
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    const refilled = Math.min(
      this.capacity,
      bucket.tokens + Math.max(0, now - bucket.at) / this.refillMs,
    );
    if (this.buckets.size >= 10_000 && !this.buckets.has(key)) this.prune(now);
    if (refilled < 1) {
      this.buckets.set(key, { tokens: refilled, at: now });
      return false;
    }
    this.buckets.set(key, { tokens: refilled - 1, at: now });
    return true;
  }

  /** Forget a key (a player who left). */
  forget(key: string): void {
    this.buckets.delete(key);
  }

  private prune(now: number): void {
    // A full bucket carries no information: drop those.
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.at) / this.refillMs >= this.capacity) this.buckets.delete(key);
    }
  }
}
