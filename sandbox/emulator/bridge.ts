// Exports and function references. Whatever crosses from one runtime into another is
// msgpack-encoded by the sender and decoded by the receiver (msgpack.ts); functions travel
// as reference strings `resource:instance:index` (ScriptHost.cpp CanonicalizeRef) that the
// receiver turns into callable references. Calling one packs the arguments, runs the
// function in its owner's runtime and packs its return values back, as
// data/shared/citizen/scripting/v8/main.js (refFunctionUnpacker, setCallRefFunction) and
// citizen-scripting-core/src/RefScriptFunctions.cpp (ValidateAndLookUpRef) do it.
import type { ScriptContext } from './context';
import { hostRealm, type Realm } from './copy';
import type { Fn, Kernel, Origin } from './kernel';
import { type AnyFunction, decode, encode, realmTools } from './msgpack';
import type { Player } from './player';

/** On an export defined by a Lua runtime: makes a fresh reference string to it. */
export const REF_OF = Symbol('fx.ref');

/** A runtime whose functions live outside JS (Lua): refs and events reach it as bytes. */
export interface ByteRuntime extends ScriptContext {
  /** Runs ref `index` with msgpack args; returns msgpack return values (nil on failure). */
  callRefBytes(index: number, args: Uint8Array): Uint8Array;
  duplicateRef(index: number): void;
  deleteRef(index: number): void;
  /** An event whose payload is msgpack bytes; `source` as FXServer passes it ('net:1'...). */
  dispatchBytes(name: string, payload: Uint8Array, source: string): void;
}

export const isByteRuntime = (ctx: unknown): ctx is ByteRuntime =>
  typeof (ctx as { callRefBytes?: unknown } | null)?.callRefBytes === 'function';

/** The test itself as the owner of functions it passes (fx.exportsOf, fx.emit). */
interface HostOwner extends Origin {
  alive: true;
  realm: Realm;
  /** What GetInvokingResource() says while it calls: `from` of exportsOf, else null. */
  invokerName: string | null;
}

type Owner = ScriptContext | HostOwner;

interface JsRef {
  fn: AnyFunction;
  refCount: number;
  /** Where a throw is recorded: `export name` or `function reference`. */
  label: string;
}

interface CachedExport {
  target: ScriptContext;
  definition: unknown;
  call: Fn;
}

const isHost = (o: Owner): o is HostOwner => 'invokerName' in o;

export class Bridge {
  /** Resource names of the callers in the current synchronous call chain. */
  private readonly invoking: (string | null)[] = [];
  /** Runtimes whose export is running, innermost last (for Kernel.invokingResource). */
  private readonly exportTargets: ScriptContext[] = [];
  private readonly hostOwners = new Map<string, HostOwner>();
  private readonly instanceIds = new WeakMap<object, number>();
  private readonly instances = new Map<number, WeakRef<Owner>>();
  private nextInstance = 1;
  private readonly jsRefs = new WeakMap<Owner, Map<number, JsRef>>();
  private nextRef = 0;
  private remoteRefs = 0;
  private readonly exportCache = new WeakMap<Owner, Map<string, CachedExport>>();
  /** A reference held by a collected function is released, as DELETE_FUNCTION_REFERENCE. */
  private readonly holders = new FinalizationRegistry<string>((ref) => this.releaseRef(ref));

  constructor(private readonly k: Kernel) {}

  invokingResource(): string | null {
    return this.invoking.at(-1) ?? null;
  }

  /** Whether `ctx` is running one of its exports right now (innermost call). */
  inExportOf(ctx: ScriptContext): boolean {
    return this.exportTargets.at(-1) === ctx;
  }

  withInvoker<T>(name: string | null, fn: () => T): T {
    this.invoking.push(name);
    try {
      return fn();
    } finally {
      this.invoking.pop();
    }
  }

  // ---- msgpack with function references ---------------------------------------------

  /** Encodes in `sender` (null: the test): functions become references it owns. */
  pack(value: unknown, sender: ScriptContext | null): Uint8Array {
    const owner = sender ?? this.hostOwner(null);
    return encode(value, { realm: owner.realm, funcRef: (fn) => this.makeRef(fn, owner) });
  }

  /**
   * Encodes for the network: a function still becomes ext 10, but its reference names a
   * runtime of the other machine, so calling it on arrival fails.
   */
  packNet(value: unknown): Uint8Array {
    return encode(value, {
      realm: hostRealm,
      funcRef: () => `(remote):0:${this.remoteRefs++}`,
    });
  }

  /** Decodes into `receiver`'s realm (null: the test); references become callable. */
  unpack(bytes: Uint8Array, receiver: ScriptContext | null, opts: { remote?: boolean } = {}) {
    const owner = receiver ?? this.hostOwner(null);
    return decode(bytes, {
      realm: owner.realm,
      funcRef: (ref) => this.holder(ref, owner, opts.remote === true),
    });
  }

  /** The reference string of a function a Lua runtime registered as `index`. */
  canonicalRef(owner: ScriptContext, index: number): string {
    return `${owner.resource}:${this.instanceOf(owner)}:${index}`;
  }

  /**
   * Calls a reference with packed arguments, as InvokeFunctionReference does; null when the
   * reference is not valid (unknown, or its runtime stopped).
   */
  invokeRef(ref: string, args: Uint8Array, invoker: string | null): Uint8Array | null {
    const found = this.lookUp(ref);
    if (!found) return null;
    const { owner, index } = found;
    return this.withInvoker(invoker, () => {
      if (isByteRuntime(owner)) return owner.callRefBytes(index, args);
      const entry = this.jsRefs.get(owner)?.get(index);
      if (!entry) {
        this.k.log({
          ...logOrigin(owner),
          level: 'error',
          text: `Invalid ref call attempt: ${index}`,
        });
        return this.pack([], isHost(owner) ? null : owner);
      }
      return this.callJs(entry, owner, args);
    });
  }

  duplicateRef(ref: string): void {
    const found = this.lookUp(ref);
    if (!found) return;
    if (isByteRuntime(found.owner)) found.owner.duplicateRef(found.index);
    else {
      const entry = this.jsRefs.get(found.owner)?.get(found.index);
      if (entry) entry.refCount++;
    }
  }

  releaseRef(ref: string): void {
    const found = this.lookUp(ref);
    if (!found) return;
    const { owner, index } = found;
    if (isByteRuntime(owner)) {
      // Never re-enter a Lua state from its own garbage collector.
      queueMicrotask(() => {
        if (owner.alive) owner.deleteRef(index);
      });
      return;
    }
    const table = this.jsRefs.get(owner);
    const entry = table?.get(index);
    if (entry && --entry.refCount <= 0) table?.delete(index);
  }

  // ---- exports -----------------------------------------------------------------------

  /** The `exports` global of a runtime: a function to define, a table to call others. */
  exportsGlobal(ctx: ScriptContext): unknown {
    const define = (name: unknown, fn: unknown) => {
      if (!ctx.alive) return;
      if (typeof fn !== 'function') {
        throw new ctx.realm.TypeError(`exports(${String(name)}): expected a function`);
      }
      ctx.exported.set(String(name), fn as Fn);
    };
    return new Proxy(define, {
      apply: (_t, _this, args: unknown[]) => define(args[0], args[1]),
      get: (_t, key) =>
        typeof key === 'string'
          ? this.exportTable(ctx.player, key, ctx, ctx.resource, ctx.realm)
          : undefined,
    });
  }

  /**
   * `exports[resource]` as main.js createExports builds it: an export resolves at access
   * time ("No such export"), then is called through its function reference; a failure
   * becomes "An error occurred while calling export ...".
   */
  exportTable(
    scope: Player | null,
    resource: string,
    caller: ScriptContext | null,
    callerName: string | null,
    callerRealm: Realm,
  ): Record<string, Fn> {
    const owner: Owner = caller ?? this.hostOwner(callerName);
    return new Proxy({} as Record<string, Fn>, {
      get: (_t, key) => {
        if (typeof key !== 'string') return undefined;
        const call = this.exportFunction(scope, resource, key, owner);
        if (!call) throw new callerRealm.Error(`No such export ${key} in resource ${resource}`);
        return realmTools(callerRealm).fn((args) => {
          try {
            return call(...args);
          } catch {
            throw new callerRealm.Error(
              `An error occurred while calling export ${key} of resource ${resource} - see above for details`,
            );
          }
        });
      },
    });
  }

  /**
   * The reference string of an export for a Lua caller (scheduler.lua gets it through the
   * `__cfx_export_<resource>_<name>` event), or null when there is no such export.
   */
  exportRef(scope: Player | null, resource: string, name: string): string | null {
    const target = this.k.runtimeOf(scope, resource);
    const definition = target?.exported.get(name);
    if (!target || !definition) return null;
    return this.refOfExport(target, name, definition);
  }

  private exportFunction(scope: Player | null, resource: string, name: string, owner: Owner) {
    const target = this.k.runtimeOf(scope, resource);
    const definition = target?.exported.get(name);
    if (!target || !definition) return this.exportByEvent(scope, resource, name, owner);
    let cache = this.exportCache.get(owner);
    if (!cache) {
      cache = new Map();
      this.exportCache.set(owner, cache);
    }
    const key = `${scope?.id ?? ''}\u0000${resource}\u0000${name}`;
    const hit = cache.get(key);
    if (hit && hit.target === target && hit.definition === definition) return hit.call;
    const ref = this.refOfExport(target, name, definition);
    // The caller unpacks the export inside the exporter's setCB call: the exporter invokes.
    const call = this.withInvoker(target.resource, () => this.holder(ref, owner, false)) as Fn;
    cache.set(key, { target, definition, call });
    return call;
  }

  /**
   * main.js resolves `exports[res][name]` by emitting the local event
   * `__cfx_export_<res>_<name>` (txAdmin → monitor) with a setCB callback: any runtime of
   * that side may answer it, which is how a resource that `provide`s another name serves
   * that name's exports (the event name is not resolved with provides). Emitted by the
   * caller, so setCB's argument arrives as a reference in the caller's realm. Not cached:
   * main.js caches it until that exact resource name stops.
   */
  private exportByEvent(scope: Player | null, resource: string, name: string, owner: Owner) {
    const event = `__cfx_export_${resource === 'txAdmin' ? 'monitor' : resource}_${name}`;
    const contexts = scope ? this.k.clientContexts(scope) : this.k.serverContexts();
    if (!contexts.some((c) => c.hasHandlers(event))) return undefined;
    let found: Fn | undefined;
    const setCB = (fn: unknown) => {
      if (typeof fn === 'function') found = fn as Fn;
    };
    const from = isHost(owner) ? null : owner;
    if (scope) this.k.events.emitClientLocal(scope, event, [setCB], from);
    else this.k.events.emitServerLocal(event, [setCB], from);
    return found;
  }

  private refOfExport(target: ScriptContext, name: string, definition: unknown): string {
    const fresh = (definition as { [REF_OF]?: unknown })[REF_OF];
    if (typeof fresh === 'function') return String(fresh());
    return this.makeRef(definition as AnyFunction, target, `export ${name}`);
  }

  // ---- references --------------------------------------------------------------------

  private hostOwner(name: string | null): HostOwner {
    const key = name ?? '(test)';
    let owner = this.hostOwners.get(key);
    if (!owner) {
      owner = {
        resource: key,
        side: 'server',
        player: null,
        alive: true,
        realm: hostRealm,
        invokerName: name,
      };
      this.hostOwners.set(key, owner);
    }
    return owner;
  }

  private instanceOf(owner: Owner): number {
    let id = this.instanceIds.get(owner);
    if (id === undefined) {
      id = this.nextInstance++;
      this.instanceIds.set(owner, id);
      this.instances.set(id, new WeakRef(owner));
    }
    return id;
  }

  /** Citizen.makeRefFunction: a fresh reference for each time a function is packed. */
  private makeRef(fn: AnyFunction, owner: Owner, label = 'function reference'): string {
    let table = this.jsRefs.get(owner);
    if (!table) {
      table = new Map();
      this.jsRefs.set(owner, table);
    }
    const index = this.nextRef++;
    table.set(index, { fn, refCount: 0, label });
    return `${owner.resource}:${this.instanceOf(owner)}:${index}`;
  }

  /** ValidateAndLookUpRef: the resource must still run the instance the ref names. */
  private lookUp(ref: string): { owner: Owner; index: number } | null {
    const first = ref.indexOf(':');
    const second = ref.indexOf(':', first + 1);
    if (first < 0 || second < 0) return null;
    const instance = Number.parseInt(ref.slice(first + 1, second), 10);
    const index = Number.parseInt(ref.slice(second + 1), 10);
    const owner = this.instances.get(instance)?.deref();
    if (!owner?.alive || owner.resource !== ref.slice(0, first)) {
      if (owner && !owner.alive) this.instances.delete(instance);
      return null;
    }
    return { owner, index };
  }

  /** main.js setCallRefFunction: runs a JS function for whoever holds its reference. */
  private callJs(entry: JsRef, owner: Owner, args: Uint8Array): Uint8Array {
    const sender = isHost(owner) ? null : owner;
    const isExport = sender !== null && entry.label.startsWith('export ');
    if (isExport) this.exportTargets.push(sender);
    try {
      const list = this.unpack(args, sender) as unknown[];
      const rv = (entry.fn as Fn)(...list);
      if (Object.prototype.toString.call(rv) === '[object Promise]') {
        const promise = rv as Promise<unknown>;
        // The holder turns this into a promise of its own (refFunctionUnpacker).
        const asyncRetval = (cb: unknown) => {
          promise
            .then((v) => {
              if (cb != null) (cb as Fn)([v], null);
            })
            .catch((err: unknown) => {
              if (cb == null) return;
              let msg = '';
              if (err) {
                const m = (err as { message?: unknown }).message;
                msg = m ? String(m) : String(err);
              }
              (cb as Fn)(null, msg);
            });
        };
        return this.pack([{ __cfx_async_retval: asyncRetval }], sender);
      }
      return this.pack([rv], sender);
    } catch (error) {
      this.k.recordError(owner, entry.label, error);
      return this.pack(null, sender);
    } finally {
      if (isExport) this.exportTargets.pop();
    }
  }

  /**
   * main.js refFunctionUnpacker: a function of the holder's realm that calls `ref`.
   * `remote`: the reference came over the network and names nothing on this machine.
   */
  private holder(ref: string, holder: Owner, remote: boolean): AnyFunction {
    const invoker = this.invokingResource();
    const name = holder.resource;
    const realm = holder.realm;
    const sender = isHost(holder) ? null : holder;
    const callerName = isHost(holder) ? holder.invokerName : holder.resource;
    const impl = (args: unknown[]): unknown => {
      let retvals: unknown = null;
      try {
        const out = remote ? null : this.invokeRef(ref, this.pack(args, sender), callerName);
        if (out) retvals = this.unpack(out, sender);
      } catch {
        retvals = null;
      }
      if (retvals === null || retvals === undefined) {
        let message = `Error in nested ref call for ${name}. `;
        if (invoker) {
          message += `${name} tried to call a function reference in ${invoker} but the reference wasn't valid. `;
          message +=
            this.k.resourceState(invoker) !== 'started'
              ? `And ${invoker} isn't started, was the resource restarted mid call?`
              : `(did ${invoker} restart recently?)`;
        }
        throw new realm.Error(message);
      }
      const length = (retvals as { length?: unknown }).length;
      if (length === 0) return undefined;
      if (length !== 1) return retvals;
      const rv = (retvals as unknown[])[0] as { __cfx_async_retval?: unknown } | null;
      if (rv?.__cfx_async_retval) {
        const asyncRetval = rv.__cfx_async_retval as Fn;
        return new (realmTools(realm).Promise)((resolve, reject) => {
          asyncRetval((v: unknown, e: unknown) => {
            if (e != null) reject(e);
            else {
              const values = v as unknown[];
              // main.js falls through its switch: the first resolve wins.
              if (values.length === 0) resolve(undefined);
              else if (values.length === 1) resolve(values[0]);
              else resolve(values);
            }
          });
        });
      }
      return rv;
    };
    const fn = realmTools(realm).fn(impl);
    if (!remote) {
      this.duplicateRef(ref);
      this.holders.register(fn, ref);
    }
    return fn;
  }
}

function logOrigin(owner: Owner) {
  return {
    resource: owner.resource,
    side: owner.side,
    ...(owner.player ? { player: owner.player.id } : {}),
  };
}
