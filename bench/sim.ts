/**
 * A deterministic world for the benchmark: a simulated clock with timers, and a simulated
 * CAD that counts requests per key in a rolling window at their arrival (somewhere between
 * send and response), answers 429 past the limit, and fails on a seeded schedule.
 */
import type { HttpAttempt } from '../shared/outcome';

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SimClock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  /** Timer callbacks run so far: what an idle resource should not add to. */
  wakeups = 0;

  now = (): number => this.t;

  readonly api = {
    set: (fn: () => void, ms: number): unknown => {
      const id = ++this.seq;
      this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
      return id;
    },
    clear: (handle: unknown): void => {
      this.timers.delete(handle as number);
    },
  };

  /** Runs timers in time order until `until` or until `done()` says stop. */
  async run(until: number, done: () => boolean = () => false): Promise<void> {
    for (;;) {
      await drain();
      if (done()) return;
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (!next || entry[1].at < next[1].at) next = entry;
      if (!next || next[1].at > until) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      this.wakeups++;
      next[1].fn();
    }
    this.t = Math.max(this.t, until);
    await drain();
  }
}

async function drain(): Promise<void> {
  for (let i = 0; i < 8; i++) await Promise.resolve();
}

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
      this.clock.api.set(() => {
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
        this.clock.api.set(() => resolve(answer), total - arriveAfter);
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
