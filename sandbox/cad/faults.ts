// Fault injection for the local CAD: scripted (failNext), standing (setOutage) and seeded
// random faults, applied in that order of precedence. Scripted and standing faults can be
// limited to one route; random faults apply to every route, in order of arrival.

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

/** The stand-in's endpoints: create a dispatch call, add a note to one. */
export type CadRoute = 'calls' | 'notes';

const ROUTES: readonly CadRoute[] = ['calls', 'notes'];

export class FaultPlan {
  /** In order; an entry without a route is taken by the next request on any route. */
  private readonly queue: { fault: Fault; route?: CadRoute }[] = [];
  private readonly outage: Record<CadRoute, Fault | null> = { calls: null, notes: null };
  private random: { rate5xx: number; rateReset: number; next: () => number } | null = null;

  failNext(n: number, fault: Fault, route?: CadRoute): void {
    for (let i = 0; i < n; i++) this.queue.push(route ? { fault, route } : { fault });
  }

  /** Sets (or with null clears) the outage of one route, or of every route. */
  setOutage(fault: Fault | null, route?: CadRoute): void {
    for (const r of route ? [route] : ROUTES) this.outage[r] = fault;
  }

  setRandom(opts: RandomFaults | null): void {
    this.random = opts && { ...opts, next: mulberry32(opts.seed) };
  }

  /** The fault for the next request on `route` that got past the gateway, if any. */
  take(route: CadRoute): Fault | null {
    const i = this.queue.findIndex((e) => e.route === undefined || e.route === route);
    const scripted = i >= 0 ? this.queue.splice(i, 1)[0] : undefined;
    if (scripted) return scripted.fault;
    const outage = this.outage[route];
    if (outage) return outage;
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
