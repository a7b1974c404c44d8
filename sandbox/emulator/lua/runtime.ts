// A Lua 5.4 server runtime for the emulator, on wasmoon (Lua compiled to WebAssembly). The
// Lua half (prelude.ts) follows scheduler.lua and lua-cmsgpack; this half connects it to
// the kernel. Values cross only as msgpack bytes (hex strings through wasmoon), so what a
// JS resource receives from Lua is exactly what the JS codec (msgpack.ts) makes of the
// bytes a lua-cmsgpack encoder writes, and the other way round.
import { createRequire } from 'node:module';
import type { LuaEngine, LuaFactory } from 'wasmoon';
import { type ByteRuntime, REF_OF } from '../bridge';
import { ScriptContext } from '../context';
import { hostRealm } from '../copy';
import type { Kernel } from '../kernel';
import { decode, encode, fromHex, toHex, vectorExt } from '../msgpack';
import { PRELUDE } from './prelude';

type LuaModule = Awaited<ReturnType<LuaFactory['getLuaModule']>>;

let luaModule: LuaModule | null = null;
let loading: Promise<LuaModule> | null = null;

/**
 * Loads wasmoon's WebAssembly module once; LuaRuntime needs it. Resolved from the working
 * directory at run time so bundles of the emulator (dist-tools) do not inline wasmoon.
 */
export function loadLua(): Promise<LuaModule> {
  if (luaModule) return Promise.resolve(luaModule);
  loading ??= (async () => {
    const req = createRequire(`${process.cwd()}/`);
    const wasmoon = req('wasmoon') as typeof import('wasmoon');
    const factory = new wasmoon.LuaFactory();
    luaModule = await factory.getLuaModule();
    return luaModule;
  })();
  return loading;
}

const req = createRequire(`${process.cwd()}/`);

type Entry = (...args: unknown[]) => unknown;

/** A resource's Lua server runtime. Events and references reach it as msgpack bytes. */
export class LuaRuntime extends ScriptContext implements ByteRuntime {
  private readonly engine: LuaEngine;
  private readonly entry: Record<string, Entry>;
  /** Event names with a Lua handler (RegisterResourceAsEventHandler). */
  private readonly eventNames = new Set<string>();
  private wakeTimer: unknown = null;
  private closed = false;

  constructor(kernel: Kernel, resource: string) {
    super(kernel, resource, 'server', null, () => ({}));
    if (!luaModule) throw new Error('Lua is not loaded: await loadLua() first');
    const { LuaEngine } = req('wasmoon') as typeof import('wasmoon');
    this.engine = new LuaEngine(luaModule, { injectObjects: false, enableProxy: false });
    for (const [name, fn] of Object.entries(this.bindings())) {
      this.engine.global.set(`__fx_${name}`, fn);
    }
    this.engine.doStringSync(PRELUDE);
    const table = this.engine.global.get('__fx_entry') as Record<string, Entry>;
    this.entry = {};
    for (const name of [
      'main',
      'event',
      'callRef',
      'duplicateRef',
      'deleteRef',
      'exportRef',
      'tick',
      'nextWake',
    ]) {
      const fn = table[name];
      if (typeof fn !== 'function') throw new Error(`Lua prelude lacks entry ${name}`);
      this.entry[name] = fn;
    }
    this.engine.doStringSync('__fx_entry = nil');
  }

  /** Loads and runs the resource's Lua file in a thread, as LoadHostFileInternal does. */
  override run(code: string, _filename: string): boolean {
    const chunk = `@${this.resource}/server.lua`;
    const out = this.enter(() => this.entry.main!(code, chunk)) as string | undefined;
    if (typeof out === 'string' && out.startsWith('!')) {
      this.kernel.recordError(this, `script load ${chunk}`, new Error(out.slice(1)));
      return false;
    }
    return true;
  }

  override hasHandlers(name: string): boolean {
    return this.alive && this.eventNames.has(name);
  }

  override dispatch(name: string, args: unknown[], source: unknown): void {
    const raw = typeof source === 'number' ? `internal-net:${source}` : String(source ?? '');
    this.dispatchBytes(name, this.kernel.bridge.pack(args, null), raw);
  }

  dispatchBytes(name: string, payload: Uint8Array, source: string): void {
    if (!this.alive) return;
    this.enter(() => this.entry.event!(name, toHex(payload), source));
  }

  callRefBytes(index: number, args: Uint8Array): Uint8Array {
    if (!this.alive) return encode(null, { realm: hostRealm, funcRef: () => '' });
    const out = this.enter(() => this.entry.callRef!(index, toHex(args)));
    return fromHex(typeof out === 'string' ? out : 'c0');
  }

  duplicateRef(index: number): void {
    if (this.alive) this.enter(() => this.entry.duplicateRef!(index));
  }

  deleteRef(index: number): void {
    if (this.alive) this.enter(() => this.entry.deleteRef!(index));
  }

  override destroy(): void {
    super.destroy();
    this.clearWake();
    if (!this.closed) {
      this.closed = true;
      try {
        this.engine.global.close();
      } catch {
        // already closed
      }
    }
  }

  /** Runs Lua, then lets the scheduler say when it next needs to run. */
  private enter<T>(fn: () => T): T | undefined {
    if (this.closed) return undefined;
    try {
      return fn();
    } catch (error) {
      this.kernel.recordError(this, 'lua', error);
      return undefined;
    } finally {
      this.reschedule();
    }
  }

  private clearWake(): void {
    if (this.wakeTimer !== null) this.timers.clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
  }

  private reschedule(): void {
    if (this.closed || !this.alive) return;
    const next = Number(this.entry.nextWake?.());
    this.clearWake();
    if (!(next >= 0)) return;
    this.wakeTimer = this.timers.setTimeout(() => {
      this.wakeTimer = null;
      this.enter(() => this.entry.tick!());
    }, next);
  }

  /** The __fx_* functions the prelude takes: strings, numbers and booleans only. */
  private bindings(): Record<string, (...args: never[]) => unknown> {
    const k = this.kernel;
    const bridge = k.bridge;
    const errorOf = (message: string, stack?: string) => {
      const error = new Error(message);
      if (stack) error.stack = stack;
      return error;
    };
    return {
      log: (level: string, text: string) =>
        k.log({ resource: this.resource, side: 'server', level: level as 'log', text }),
      error: (where: string, message: string, stack?: string) =>
        k.recordError(this, where, errorOf(message, stack)),
      now: () => performance.now() - k.startedAt,
      registerEvent: (name: string) => {
        if (this.alive) this.eventNames.add(String(name));
      },
      trigger: (name: string, hex: string) => {
        if (this.alive) k.events.emitServerLocalBytes(String(name), fromHex(hex), this);
      },
      triggerClient: (name: string, target: unknown, hex: string) => {
        if (this.alive) k.events.sendToClientsBytes(target, String(name), fromHex(hex));
      },
      canonicalizeRef: (index: number) => bridge.canonicalRef(this, Number(index)),
      invokeRef: (ref: string, hex: string) => {
        const out = bridge.invokeRef(String(ref), fromHex(hex), this.resource);
        return out ? toHex(out) : false;
      },
      dupRef: (ref: string) => bridge.duplicateRef(String(ref)),
      delRef: (ref: string) => bridge.releaseRef(String(ref)),
      getExport: (resource: string, name: string) =>
        bridge.exportRef(null, String(resource), String(name)) ?? false,
      defineExport: (name: string) => {
        if (!this.alive) return;
        const exportName = String(name);
        // A JS caller gets a fresh reference per lookup, as the export event would give.
        const definition = Object.assign(() => undefined, {
          [REF_OF]: () => String(this.entry.exportRef!(exportName)),
        });
        this.exported.set(exportName, definition);
      },
      native: (name: string, hex: string) => {
        try {
          const args = decode(fromHex(hex), {
            realm: hostRealm,
            funcRef: () => null,
          }) as unknown[];
          const result = this.native(String(name), args);
          return toHex(encode(result, { realm: hostRealm, funcRef: () => '' }));
        } catch (error) {
          return `!${(error as Error).message ?? String(error)}`;
        }
      },
      getState: (bag: string, key: string) => {
        const bytes = k.stateBags.get(String(bag), String(key));
        return bytes ? toHex(bytes) : '';
      },
      setState: (bag: string, key: string, hex: string, replicated: boolean) =>
        this.alive &&
        k.stateBags.set(0, String(bag), String(key), fromHex(String(hex)), replicated === true),
      addStateHandler: (keyFilter: string, bagFilter: string, ref: string) => {
        if (!this.alive) return -1;
        return k.stateBags.addHandler(this, keyFilter || '', bagFilter || '', (args) => {
          bridge.invokeRef(String(ref), args, null);
        });
      },
      removeStateHandler: (cookie: number) => k.stateBags.removeHandler(Number(cookie)),
      jsonDecode: (text: string) => {
        try {
          return toHex(encode(JSON.parse(text), { realm: hostRealm, funcRef: () => '' }));
        } catch (error) {
          return `!${(error as Error).message}`;
        }
      },
    };
  }

  /** The server natives the Lua globals call (see the list in prelude.ts). */
  private native(name: string, args: unknown[]): unknown {
    const k = this.kernel;
    const player = (src: unknown) => k.connectedOrDropping(src);
    const entity = (ped: unknown) => {
      const p = k.playerByServerPed(ped);
      // ServerGameState_Scripting.cpp: entity natives throw on a handle with no entity.
      if (!p) throw new Error('Tried to access invalid entity.');
      return p;
    };
    const [a, b] = args;
    switch (name) {
      case 'GetNumPlayerIndices':
        return k.connectedPlayers().length;
      case 'GetPlayerFromIndex': {
        const p = k.connectedPlayers()[Number(a)];
        return p ? String(p.id) : null;
      }
      case 'GetPlayerPed':
        return player(a)?.serverPed ?? 0;
      case 'GetEntityCoords':
        return vectorExt(entity(a).position, hostRealm);
      case 'GetEntityHeading':
        return entity(a).heading;
      case 'DoesEntityExist':
        return k.playerByServerPed(a) !== undefined;
      case 'DoesPlayerExist':
        return player(a) !== undefined;
      case 'GetPlayerName':
        return player(a)?.name ?? null;
      case 'GetNumPlayerIdentifiers':
        return player(a)?.identifiers.length ?? 0;
      case 'GetPlayerIdentifier':
        return player(a)?.identifiers[Number(b)] ?? null;
      case 'GetPlayerIdentifierByType':
        return player(a)?.identifiers.find((id) => id.startsWith(`${String(b)}:`)) ?? null;
      case 'IsPlayerAceAllowed':
        return k.aceAllowed(a, String(b));
      case 'GetConvar':
        return k.readConvar(this, String(a)) ?? b;
      case 'GetConvarInt': {
        const m = /^\s*(-?\d+)/.exec(k.readConvar(this, String(a)) ?? '');
        return m ? Number.parseInt(m[1]!, 10) : b;
      }
      case 'GetResourceState':
        return k.scriptResourceState(String(a));
      case 'GetInvokingResource':
        return k.invokingResource(this);
      case 'GetCurrentResourceName':
        return this.resource;
      case 'GetGameTimer':
        return Math.floor(performance.now() - k.startedAt);
    }
    throw new Error(`native ${name} is not emulated`);
  }
}
