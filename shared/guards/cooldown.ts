/**
 * Per-player, per-command cooldowns on a monotonic millisecond clock: plain arithmetic on
 * one number, so nothing breaks across a minute or midnight boundary. A clock that steps back
 * anyway (the wall clock set back an hour) cannot stretch a cooldown past its own length.
 */
export class Cooldowns {
  private readonly until = new Map<string, { at: number; ms: number }>();

  /** Milliseconds left before `key` may be used again; 0 when it may; never more than its length. */
  remaining(key: string, now: number): number {
    const entry = this.until.get(key);
    return entry === undefined ? 0 : Math.min(entry.ms, Math.max(0, entry.at - now));
  }

  start(key: string, now: number, ms: number): void {
    if (ms <= 0) return;
    // Expired entries are dropped now and then, so a long uptime does not grow the map.
    if (this.until.size >= 1_000) {
      for (const [k, t] of this.until) if (t.at <= now) this.until.delete(k);
    }
    this.until.set(key, { at: now + ms, ms });
  }
}
