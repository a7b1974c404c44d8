/**
 * A deterministic world for the benchmark: the tooling's fake clock, and a simulated CAD that
 * counts requests in a rolling window at their arrival (somewhere between send and response),
 * answers 429 past the limit, and fails on a seeded schedule. Clock, PRNG and window are the
 * ones the CAD stand-in and the tests use (sandbox/support).
 */

import { FakeClock as SimClock } from '../sandbox/support/clock';
import { mulberry32 as prng } from '../sandbox/support/prng';
import { RollingWindow } from '../sandbox/support/rolling-window';
import type { HttpAttempt } from '../shared/delivery/outcome';

/** The simulated CAD serves one key. */
const KEY = 'bench';

export { prng, SimClock };

export interface CadOptions {
  requests: number;
  windowMs: number;
  /** Response time range in ms. */
  latency: [number, number];
  rate5xx: number;
  rateDrop: number;
  seed: number;
}

export class SimCad {
  /** Arrival time of every request we sent, as the CAD counted them. */
  readonly arrivals: number[] = [];
  count429 = 0;
  /** Requests it accepted: each answer carries the next number (a call's, for the calls lane). */
  private accepted = 0;
  private readonly window: RollingWindow;
  private readonly random: () => number;

  constructor(
    private readonly clock: SimClock,
    private readonly options: CadOptions,
  ) {
    this.random = prng(options.seed);
    this.window = new RollingWindow(options.requests, options.windowMs);
  }

  /** Sends one request; resolves at its response time. */
  send(): Promise<HttpAttempt> {
    const { latency } = this.options;
    const total = latency[0] + this.random() * (latency[1] - latency[0]);
    const arriveAfter = total * (0.2 + 0.6 * this.random());
    const roll = this.random();
    return new Promise((resolve) => {
      this.clock.timers_.set(() => {
        const at = this.clock.now();
        this.arrivals.push(at);
        const admitted = this.window.admit(KEY, at);
        let answer: HttpAttempt;
        if (!admitted.ok) {
          this.count429++;
          const retryAfter = Math.ceil(admitted.retryAfterMs / 1000);
          answer = {
            kind: 'response',
            status: 429,
            headers: { 'retry-after': String(retryAfter) },
            body: '',
          };
        } else if (roll < this.options.rateDrop) {
          answer = { kind: 'network', message: 'ECONNRESET' };
        } else if (roll < this.options.rateDrop + this.options.rate5xx) {
          answer = { kind: 'response', status: 503, headers: {}, body: '' };
        } else {
          this.accepted++;
          answer = {
            kind: 'response',
            status: 201,
            headers: {},
            body: `{"callId":${this.accepted}}`,
          };
        }
        this.clock.timers_.set(() => resolve(answer), total - arriveAfter);
      }, arriveAfter);
    });
  }

  /** The most of our requests the CAD saw in any rolling window. */
  maxInAnyWindow(): number {
    return this.window.maxInAnyWindow(KEY);
  }
}
