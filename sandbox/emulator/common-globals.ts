// Globals both runtimes share: console, Cfx timers, events, commands, exports and the
// resource-introspection natives. Side-specific natives live in server-/client-globals.ts.
import { format } from 'node:util';
import type { ScriptContext } from './context';
import type { LogLevel } from './types';

export type Globals = Record<string, unknown>;

/** Turns plain values into property descriptors for Object.defineProperties. */
export function descriptors(globals: Globals): Record<string, PropertyDescriptor> {
  const out: Record<string, PropertyDescriptor> = {};
  for (const [key, value] of Object.entries(globals)) {
    out[key] = { value, writable: true, configurable: true, enumerable: true };
  }
  return out;
}

export function commonGlobals(ctx: ScriptContext): Globals {
  const k = ctx.kernel;
  const t = ctx.timers;
  const on = (name: unknown, fn: unknown) => ctx.on(String(name), fn, false);
  const onNet = (name: unknown, fn?: unknown) => {
    // RegisterNetEvent(name) without a handler only marks the name as net-safe.
    if (fn === undefined) {
      if (ctx.alive) ctx.netSafe.add(String(name));
      return;
    }
    ctx.on(String(name), fn, true);
  };
  const emit = (name: unknown, ...args: unknown[]) => {
    if (!ctx.alive) return;
    if (ctx.side === 'server') k.events.emitServerLocal(String(name), args, ctx);
    else if (ctx.player) k.events.emitClientLocal(ctx.player, String(name), args, ctx);
  };
  const registerCommand = (name: unknown, handler: unknown, restricted?: unknown) => {
    if (!ctx.alive) return;
    if (typeof handler !== 'function') {
      throw new ctx.realm.TypeError(`RegisterCommand(${String(name)}): handler must be a function`);
    }
    k.commands.register(
      ctx,
      String(name),
      handler as (...args: unknown[]) => unknown,
      restricted === true,
    );
  };
  const commandTable = () => (ctx.player ? k.commands.client(ctx.player) : k.commands.server);

  return {
    console: makeConsole(ctx),
    setTimeout: t.setTimeout,
    clearTimeout: t.clearTimeout,
    setInterval: t.setInterval,
    clearInterval: t.clearInterval,
    setImmediate: t.setImmediate,
    clearImmediate: t.clearImmediate,
    setTick: t.setTick,
    clearTick: t.clearTick,
    source: undefined,
    on,
    AddEventHandler: on,
    addEventListener: (name: unknown, fn: unknown, netSafe?: unknown) =>
      ctx.on(String(name), fn, netSafe === true),
    onNet,
    addNetEventListener: onNet,
    RegisterNetEvent: onNet,
    removeEventListener: (name: unknown, fn: unknown) => ctx.off(String(name), fn),
    emit,
    TriggerEvent: emit,
    CancelEvent: () => k.events.cancel(),
    WasEventCanceled: () => k.events.wasCanceled(),
    RegisterCommand: registerCommand,
    // ResourceScriptFunctions.cpp GET_REGISTERED_COMMANDS: { name, resource, arity } of
    // every command on this side, the owner of a shared name as `resource`.
    GetRegisteredCommands: () =>
      ctx.realm.Array.from(commandTable().list(), (c) => Object.assign(new ctx.realm.Object(), c)),
    exports: k.bridge.exportsGlobal(ctx),
    GetCurrentResourceName: () => ctx.resource,
    GetInvokingResource: () => k.invokingResource(ctx),
    GetResourceState: (res: unknown) => k.scriptResourceState(String(res)),
    GetResourceMetadata: (res: unknown, key: unknown, index: unknown) =>
      k.resourceMetadata(String(res), String(key))[Number(index) || 0] ?? null,
    GetNumResourceMetadata: (res: unknown, key: unknown) =>
      k.resourceMetadata(String(res), String(key)).length,
    GetHashKey: (s: unknown) => joaat(String(s)) | 0,
    IsDuplicityVersion: () => ctx.side === 'server',
  };
}

function makeConsole(ctx: ScriptContext): Globals {
  const write = (level: LogLevel, args: unknown[]) =>
    ctx.kernel.log({
      resource: ctx.resource,
      side: ctx.side,
      ...(ctx.player ? { player: ctx.player.id } : {}),
      level,
      text: format(...args),
    });
  const counts = new Map<string, number>();
  const timers = new Map<string, number>();
  return {
    log: (...a: unknown[]) => write('log', a),
    info: (...a: unknown[]) => write('info', a),
    warn: (...a: unknown[]) => write('warn', a),
    error: (...a: unknown[]) => write('error', a),
    debug: (...a: unknown[]) => write('debug', a),
    trace: (...a: unknown[]) => write('debug', a),
    dir: (item: unknown) => write('log', [item]),
    assert: (cond: unknown, ...a: unknown[]) => {
      if (!cond) write('error', ['Assertion failed:', ...a]);
    },
    count: (label = 'default') => {
      const n = (counts.get(label) ?? 0) + 1;
      counts.set(label, n);
      write('log', [`${label}: ${n}`]);
    },
    countReset: (label = 'default') => counts.delete(label),
    time: (label = 'default') => timers.set(label, performance.now()),
    timeEnd: (label = 'default') => {
      const start = timers.get(label);
      timers.delete(label);
      if (start !== undefined)
        write('log', [`${label}: ${(performance.now() - start).toFixed(3)}ms`]);
    },
  };
}

/** Jenkins one-at-a-time hash, as GTA uses for names (unsigned). */
export function joaat(input: string): number {
  let hash = 0;
  for (const ch of input.toLowerCase()) {
    hash = (hash + (ch.codePointAt(0) ?? 0)) >>> 0;
    hash = (hash + (hash << 10)) >>> 0;
    hash = (hash ^ (hash >>> 6)) >>> 0;
  }
  hash = (hash + (hash << 3)) >>> 0;
  hash = (hash ^ (hash >>> 11)) >>> 0;
  return (hash + (hash << 15)) >>> 0;
}
