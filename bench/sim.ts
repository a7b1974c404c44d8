/**
 * A deterministic world for the benchmark: the tests' fake clock, and a simulated CAD that counts requests per key in a rolling window at their arrival (somewhere between
 * send and response), answers 429 past the limit, and fails on a seeded schedule.
 */

import { mulberry32 as prng } from '../sandbox/cad/faults';
import type { HttpAttempt } from '../shared/outcome';
import { FakeClock as SimClock } from '../test/support/clock';

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
  private readonly counted: number[] = [];
  private readonly random: () => number;

  constructor(
    private readonly clock: SimClock,
    private readonly options: CadOptions,
  ) {
    this.random = prng(options.seed);
  }

  /** Sends one request; resolves at its response time. */
  send(): Promise<HttpAttempt> {
    const { latency, windowMs, requests } = this.options;
    const total = latency[0] + this.random() * (latency[1] - latency[0]);
    const arriveAfter = total * (0.2 + 0.6 * this.random());
    const roll = this.random();
    return new Promise((resolve) => {
      this.clock.timers_.set(() => {
        const at = this.clock.now();
        this.arrivals.push(at);
        while (this.counted.length > 0 && this.counted[0]! <= at - windowMs) this.counted.shift();
        let answer: HttpAttempt;
        if (this.counted.length >= requests) {
          this.count429++;
          const retryAfter = Math.ceil((this.counted[0]! + windowMs - at) / 1000);
          answer = {
            kind: 'response',
            status: 429,
            headers: { 'retry-after': String(retryAfter) },
            body: '',
          };
        } else {
          this.counted.push(at);
          if (roll < this.options.rateDrop) answer = { kind: 'network', message: 'ECONNRESET' };
          else if (roll < this.options.rateDrop + this.options.rate5xx) {
            answer = { kind: 'response', status: 503, headers: {}, body: '' };
          } else answer = { kind: 'response', status: 201, headers: {}, body: '{"callId":1}' };
        }
        this.clock.timers_.set(() => resolve(answer), total - arriveAfter);
      }, arriveAfter);
    });
  }

  /** The most of our requests the CAD saw in any rolling window. */
  maxInAnyWindow(): number {
    let max = 0;
    let start = 0;
    const sorted = [...this.arrivals].sort((a, b) => a - b);
    for (let end = 0; end < sorted.length; end++) {
      while (sorted[start]! <= sorted[end]! - this.options.windowMs) start++;
      max = Math.max(max, end - start + 1);
    }
    return max;
  }
}
