/**
 * Per-player, per-command cooldowns on a monotonic millisecond clock: plain arithmetic on
 * one number, so nothing breaks across a minute or midnight boundary.
 */
export class Cooldowns {
  private readonly until = new Map<string, number>();

  /** Milliseconds left before `key` may be used again; 0 when it may. */
  remaining(key: string, now: number): number {
    const until = this.until.get(key);
    return until === undefined ? 0 : Math.max(0, until - now);
  }

  start(key: string, now: number, ms: number): void {
    if (ms <= 0) return;
    // Expired entries are dropped now and then, so a long uptime does not grow the map.
    if (this.until.size >= 1_000) {
      for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
    }
    this.until.set(key, now + ms);
  }
}
