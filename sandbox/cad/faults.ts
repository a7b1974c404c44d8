// Fault injection for the local CAD: scripted (failNext), standing (setOutage) and seeded
// random faults, applied in that order of precedence.

import { mulberry32 } from '../support/prng';

export type Fault =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** A redirect (default 302) to `redirect`, with an empty body. */
  | { redirect: string; status?: 301 | 302 | 303 | 307 | 308 }
  | 'reset'
  | 'hang'
  /**
   * The request is handled as usual (a valid call is created), then the answer's status line
   * and headers and half of its body are sent, and the rest never comes ('stall-body') or
   * the connection is destroyed ('reset-body').
   */
  | 'stall-body'
  | 'reset-body'
  /** A 400 whose problem+json `detail` quotes the Authorization header, key and all. */
  | 'echo-key'
  /** The same, JSON-escaped the way ASP.NET writes it (`+` as `\u002B`, `/` as `\u002F`). */
  | 'echo-key-escaped';

/** Faults that cut the answer's body rather than replace the answer. */
export const isBodyFault = (fault: Fault): fault is 'stall-body' | 'reset-body' =>
  fault === 'stall-body' || fault === 'reset-body';

export interface RandomFaults {
  /** Share of requests answered 500/502/503/504. */
  rate5xx: number;
  /** Share of requests whose connection is destroyed without an answer. */
  rateReset: number;
  seed: number;
}

export class FaultPlan {
  private readonly queue: Fault[] = [];
  private outage: Fault | null = null;
  private random: { rate5xx: number; rateReset: number; next: () => number } | null = null;

  failNext(n: number, fault: Fault): void {
    for (let i = 0; i < n; i++) this.queue.push(fault);
  }

  setOutage(fault: Fault | null): void {
    this.outage = fault;
  }

  setRandom(opts: RandomFaults | null): void {
    this.random = opts && { ...opts, next: mulberry32(opts.seed) };
  }

  /** The fault for the next request that got past the gateway, if any. */
  take(): Fault | null {
    const scripted = this.queue.shift();
    if (scripted) return scripted;
    if (this.outage) return this.outage;
    if (!this.random) return null;
    const r = this.random.next();
    if (r < this.random.rate5xx) {
      const statuses = [500, 502, 503, 504] as const;
      return { status: statuses[Math.floor(this.random.next() * statuses.length)] ?? 500 };
    }
    if (r < this.random.rate5xx + this.random.rateReset) return 'reset';
    return null;
  }
}
