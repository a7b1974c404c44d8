// Per-key rolling window, as we assume the gateway applies it: a request is counted at
// arrival; it is refused when the requests already counted in the last windowMs reach the
// limit, and a refused request is not counted.

export class RollingWindow {
  private readonly counted = new Map<string, number[]>();
  /** Every authenticated arrival, refused or not, plus phantom spends: what was sent. */
  private readonly sent = new Map<string, number[]>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Counts the request, or returns how long until a slot frees up. */
  admit(key: string, at: number): { ok: true } | { ok: false; retryAfterMs: number } {
    push(this.sent, key, at, 1);
    const inWindow = this.inWindow(key, at);
    if (inWindow.length >= this.limit) {
      const oldest = Math.min(...inWindow);
      return { ok: false, retryAfterMs: Math.max(0, oldest + this.windowMs - at) };
    }
    push(this.counted, key, at, 1);
    return { ok: true };
  }

  /** Requests made elsewhere with the same key (another resource, another server). */
  spend(key: string, at: number, n: number): void {
    push(this.counted, key, at, n);
    push(this.sent, key, at, n);
  }

  /** Counted timestamps t with at - windowMs < t <= at. */
  inWindow(key: string, at: number): number[] {
    return (this.counted.get(key) ?? []).filter((t) => t > at - this.windowMs && t <= at);
  }

  /** Time until the oldest counted request in the window expires (0 if none). */
  msUntilSlot(key: string, at: number): number {
    const inWindow = this.inWindow(key, at);
    if (inWindow.length === 0) return 0;
    return Math.max(0, Math.min(...inWindow) + this.windowMs - at);
  }

  /** Most sent requests within any span shorter than windowMs. */
  maxInAnyWindow(key: string): number {
    const times = [...(this.sent.get(key) ?? [])].sort((a, b) => a - b);
    let best = 0;
    let start = 0;
    for (let end = 0; end < times.length; end++) {
      while ((times[end] ?? 0) - (times[start] ?? 0) >= this.windowMs) start++;
      best = Math.max(best, end - start + 1);
    }
    return best;
  }
}

function push(map: Map<string, number[]>, key: string, at: number, n: number): void {
  const list = map.get(key) ?? [];
  for (let i = 0; i < n; i++) list.push(at);
  map.set(key, list);
}
