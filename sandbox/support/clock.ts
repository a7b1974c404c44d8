/**
 * A fake clock with timers, so the unit tests and the benchmark run in simulated time with
 * no sleeping. Timers fire in time order; promise callbacks run between them.
 */
export class FakeClock {
  private t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  /** How many timer callbacks have run (idle code should run none). */
  fired = 0;

  now = (): number => this.t;

  timers_ = {
    set: (fn: () => void, ms: number): unknown => {
      const id = ++this.seq;
      this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
      return id;
    },
    clear: (handle: unknown): void => {
      this.timers.delete(handle as number);
    },
  };

  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running each due timer at its own time, in order. */
  advance(ms: number): Promise<void> {
    return this.run(this.t + ms);
  }

  /** Runs timers in time order until `until`, or until `done()` says stop. */
  async run(until: number, done: () => boolean = () => false): Promise<void> {
    for (;;) {
      await flush();
      if (done()) return;
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= until && (!next || entry[1].at < next[1].at)) next = entry;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      this.fired++;
      next[1].fn();
    }
    this.t = Math.max(this.t, until);
    await flush();
  }
}

/** Lets promise callbacks queued so far run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
