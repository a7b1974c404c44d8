import vm from 'node:vm';
import type { Realm } from './copy';
import { isThenable } from './copy';
import type { Kernel } from './kernel';
import type { Player } from './player';
import { TimerScope } from './timers';
import type { Side } from './types';

type Handler = (...args: unknown[]) => unknown;

/**
 * One script runtime: a resource's server side, or its client side on one player.
 * Everything it registers lives here so stopping the resource can drop it in one go.
 */
export class ScriptContext {
  readonly handlers = new Map<string, Handler[]>();
  /** Names registered with onNet: only these accept events from the network. */
  readonly netSafe = new Set<string>();
  readonly exported = new Map<string, Handler>();
  readonly timers: TimerScope;
  readonly sandbox: Record<string, unknown>;
  readonly realm: Realm;
  /** The script's own `globalThis` (server scripts also see it as `global`). */
  readonly globalProxy: object;
  alive = true;
  private readonly context: vm.Context;

  constructor(
    readonly kernel: Kernel,
    readonly resource: string,
    readonly side: Side,
    readonly player: Player | null,
    makeGlobals: (ctx: ScriptContext) => Record<string, PropertyDescriptor>,
  ) {
    this.timers = new TimerScope((where, fn) => this.invoke(where, fn));
    this.sandbox = {};
    this.context = vm.createContext(this.sandbox, {
      name: player ? `${resource} (client ${player.id})` : `${resource} (server)`,
    });
    // The host's current Date, so vi.useFakeTimers()/vi.setSystemTime() reach scripts too.
    Object.defineProperty(this.sandbox, 'Date', { get: () => globalThis.Date, configurable: true });
    this.realm = vm.runInContext(
      '({ Object, Array, Date, Uint8Array, Error, TypeError })',
      this.context,
    ) as Realm;
    this.globalProxy = vm.runInContext('globalThis', this.context) as object;
    Object.defineProperties(this.sandbox, makeGlobals(this));
  }

  get label(): string {
    return this.player ? `${this.resource}@client:${this.player.id}` : this.resource;
  }

  /** Runs a script file; false when it threw (already recorded). */
  run(code: string, filename: string): boolean {
    try {
      vm.runInContext(code, this.context, { filename });
      return true;
    } catch (error) {
      this.kernel.recordError(this, `script load ${filename}`, error);
      return false;
    }
  }

  on(name: string, fn: unknown, netSafe: boolean): void {
    if (!this.alive) return;
    if (typeof fn !== 'function')
      throw new this.realm.TypeError(`handler for ${name} must be a function`);
    const list = this.handlers.get(name) ?? [];
    list.push(fn as Handler);
    this.handlers.set(name, list);
    if (netSafe) this.netSafe.add(name);
  }

  off(name: string, fn: unknown): void {
    const list = this.handlers.get(name);
    if (!list) return;
    const i = list.indexOf(fn as Handler);
    if (i >= 0) list.splice(i, 1);
  }

  hasHandlers(name: string): boolean {
    return (this.handlers.get(name)?.length ?? 0) > 0;
  }

  /**
   * Calls every handler of `name` with `source` set only for the synchronous part, then
   * null (not the previous value), as data/shared/citizen/scripting/v8/main.js
   * (setEventFunction) does. A raw `net:N` / `internal-net:N` (server) source becomes N.
   */
  dispatch(name: string, args: unknown[], source: unknown): void {
    const list = this.handlers.get(name);
    if (!list || !this.alive) return;
    this.sandbox.source = scriptSource(source, this.side);
    try {
      for (const fn of [...list]) this.invoke(`event ${name}`, () => fn(...args));
    } finally {
      this.sandbox.source = null;
    }
  }

  /** Runs script code; a throw or a rejected promise is recorded like FXServer prints it. */
  invoke(where: string, fn: () => unknown): unknown {
    try {
      const result = fn();
      if (isThenable(result)) {
        result.then(undefined, (error: unknown) => this.kernel.recordError(this, where, error));
      }
      return result;
    } catch (error) {
      this.kernel.recordError(this, where, error);
      return undefined;
    }
  }

  /** Calls with `source` set for the synchronous part (commands). */
  invokeWithSource(where: string, source: unknown, fn: () => unknown): void {
    const previous = this.sandbox.source;
    this.sandbox.source = source;
    try {
      this.invoke(where, fn);
    } finally {
      this.sandbox.source = previous;
    }
  }

  destroy(): void {
    this.alive = false;
    this.handlers.clear();
    this.netSafe.clear();
    this.exported.clear();
    this.timers.clearAll();
  }
}

function scriptSource(raw: unknown, side: Side): unknown {
  if (typeof raw !== 'string') return raw;
  if (raw.startsWith('net:')) return Number.parseInt(raw.slice(4), 10);
  if (side === 'server' && raw.startsWith('internal-net:'))
    return Number.parseInt(raw.slice(13), 10);
  return raw;
}
