// Per-context Cfx timers. FXServer owns every timer a resource creates and drops them all
// when the resource stops, so each script context gets its own scope that can be cleared.
// The host's timer functions are looked up at call time (not captured) so that a test's
// vi.useFakeTimers() also drives resource timers.

export const TICK_MS = 50;

type Kind = 'timeout' | 'interval' | 'tick';
type Callback = (...args: unknown[]) => unknown;

/** What scripts get back: Cfx timers are objects that coerce to their numeric id. */
export interface CfxTimer {
  readonly id: number;
  ref(): CfxTimer;
  unref(): CfxTimer;
  hasRef(): boolean;
  refresh(): CfxTimer;
  [Symbol.toPrimitive](): number;
}

export class TimerScope {
  private nextId = 1;
  private readonly live = new Map<number, { kind: Kind; handle: unknown }>();
  private closed = false;

  // `run` calls a script callback and records what it throws or rejects with.
  constructor(private readonly run: (where: string, fn: () => unknown) => void) {}

  get size(): number {
    return this.live.size;
  }

  setTimeout = (fn: unknown, ms?: unknown, ...args: unknown[]): CfxTimer =>
    this.schedule('timeout', fn, (id, cb) =>
      globalThis.setTimeout(() => {
        this.live.delete(id);
        this.run('setTimeout callback', () => cb(...args));
      }, delay(ms)),
    );

  setInterval = (fn: unknown, ms?: unknown, ...args: unknown[]): CfxTimer =>
    this.schedule('interval', fn, (_id, cb) =>
      globalThis.setInterval(
        () => this.run('setInterval callback', () => cb(...args)),
        Math.max(1, delay(ms)),
      ),
    );

  // timer.js: setImmediate is setTimeout(callback, 0): it runs on a later server tick.
  setImmediate = (fn: unknown, ...args: unknown[]): CfxTimer => this.setTimeout(fn, 0, ...args);

  setTick = (fn: unknown): number =>
    Number(
      this.schedule('tick', fn, (_id, cb) =>
        globalThis.setInterval(() => this.run('tick', () => cb()), TICK_MS),
      ),
    );

  // timer.js clearTimer reads `timer.id`: the handle object clears, its number does not.
  clearTimeout = (timer: unknown): void => this.clearHandle(timer);
  clearInterval = (timer: unknown): void => this.clearHandle(timer);
  clearImmediate = (timer: unknown): void => this.clearHandle(timer);
  // setTick answers a plain number, and clearTick takes that number.
  clearTick = (timer: unknown): void => {
    if (this.live.get(Number(timer))?.kind === 'tick') this.clear(timer);
  };

  clearAll(): void {
    for (const id of [...this.live.keys()]) this.clear(id);
    this.closed = true;
  }

  private schedule(kind: Kind, fn: unknown, start: (id: number, cb: Callback) => unknown) {
    if (typeof fn !== 'function') throw new TypeError(`${kind}: callback must be a function`);
    const id = this.nextId++;
    // A stopped runtime schedules nothing: late async continuations get an inert timer.
    if (!this.closed) this.live.set(id, { kind, handle: start(id, fn as Callback) });
    const timer: CfxTimer = {
      id,
      ref: () => timer,
      unref: () => timer,
      hasRef: () => true,
      refresh: () => {
        (this.live.get(id)?.handle as { refresh?: () => void } | undefined)?.refresh?.();
        return timer;
      },
      [Symbol.toPrimitive]: () => id,
    };
    return timer;
  }

  private clearHandle(timer: unknown): void {
    if (typeof timer !== 'object' || timer === null) return;
    this.clear((timer as { id?: unknown }).id);
  }

  private clear(timer: unknown): void {
    if (timer === undefined || timer === null) return;
    const id = Number(timer);
    const entry = this.live.get(id);
    if (!entry) return;
    this.live.delete(id);
    if (entry.kind === 'timeout') globalThis.clearTimeout(entry.handle as NodeJS.Timeout);
    else globalThis.clearInterval(entry.handle as NodeJS.Timeout);
  }
}

function delay(ms: unknown): number {
  const n = Number(ms);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
