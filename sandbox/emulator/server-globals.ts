// The server runtime: FiveM server natives plus the Node 22 globals FXServer exposes.
import { createRequire, isBuiltin } from 'node:module';
import type { Globals } from './common-globals';
import type { ScriptContext } from './context';
import type { Kernel } from './kernel';
import { serverStateBagGlobals } from './statebags';

// Any base path will do: only built-ins are ever required, and this works bundled as CJS too.
const hostRequire = createRequire(`${process.cwd()}/`);

// Built-ins only: the shipped resource has no node_modules, so a bundle that still
// requires a package must fail here as it would on the server.
function nodeRequire(id: string): unknown {
  if (!isBuiltin(id)) throw new Error(`Cannot find module '${id}' (only Node built-ins exist)`);
  return hostRequire(id);
}

export function serverGlobals(ctx: ScriptContext): Globals {
  const k = ctx.kernel;
  const player = (src: unknown) => k.connectedOrDropping(src);
  const emitNet = (name: unknown, target: unknown, ...args: unknown[]) => {
    if (ctx.alive) k.events.sendToClients(target, String(name), args);
  };
  const entity = (handle: unknown) => {
    if (!Number(handle)) return undefined;
    const found = k.playerByServerPed(handle);
    if (!found) throw new ctx.realm.Error(`Tried to access invalid entity: ${Number(handle)}`);
    return found;
  };
  const str = (v: unknown, what: string): string => {
    if (typeof v !== 'string') throw new ctx.realm.TypeError(`${what} must be a string`);
    return v;
  };
  return {
    ...kvpGlobals(ctx, k, str),
    ...serverStateBagGlobals(ctx),
    emitNet,
    TriggerClientEvent: emitNet,
    TriggerLatentClientEvent: (name: unknown, target: unknown, _bps: unknown, ...args: unknown[]) =>
      emitNet(name, target, ...args),
    getPlayers: () => ctx.realm.Array.from(k.connectedPlayers(), (p) => String(p.id)),
    GetPlayerName: (src: unknown) => player(src)?.name ?? null,
    getPlayerIdentifiers: (src: unknown) =>
      ctx.realm.Array.from(player(src)?.identifiers ?? [], String),
    GetNumPlayerIdentifiers: (src: unknown) => player(src)?.identifiers.length ?? 0,
    GetPlayerIdentifier: (src: unknown, i: unknown) => player(src)?.identifiers[Number(i)] ?? null,
    GetPlayerIdentifierByType: (src: unknown, type: unknown) =>
      player(src)?.identifiers.find((id) => id.startsWith(`${String(type)}:`)) ?? null,
    // GetPlayerPed keeps answering a ped's handle after the entity is gone (it is only set
    // when a ped is created: ServerGameState.cpp); entity natives then throw for a
    // non-zero handle that resolves to nothing and answer the default for 0
    // (ServerGameState_Scripting.cpp, makeEntityFunction). DoesEntityExist never throws.
    GetPlayerPed: (src: unknown) => player(src)?.serverPed ?? 0,
    DoesEntityExist: (ped: unknown) => k.playerByServerPed(ped) !== undefined,
    GetEntityCoords: (ped: unknown) => ctx.realm.Array.from(entity(ped)?.position ?? [0, 0, 0]),
    GetEntityHeading: (ped: unknown) => entity(ped)?.heading ?? 0,
    DoesPlayerExist: (src: unknown) => player(src) !== undefined,
    IsPlayerAceAllowed: (src: unknown, ace: unknown) => k.aceAllowed(src, String(ace)),
    DropPlayer: (src: unknown, reason: unknown) => player(src)?.drop(String(reason ?? '')),
    ExecuteCommand: (line: unknown) => {
      if (ctx.alive) k.commands.runServerCommand(String(line), 0);
    },
    GetConvar: (name: unknown, def: unknown) => k.readConvar(ctx, String(name)) ?? def,
    GetConvarInt: (name: unknown, def: unknown) =>
      parseConvarInt(k.readConvar(ctx, String(name))) ?? def,
    LoadResourceFile: (res: unknown, path: unknown) => k.resourceFile(String(res), String(path)),
    // Node 22 globals as FXServer's server runtime has them. fetch is looked up at call time
    // so vi.stubGlobal('fetch', ...) in a test reaches the resource.
    fetch: (...args: Parameters<typeof fetch>) => globalThis.fetch(...args),
    AbortController,
    AbortSignal,
    Headers,
    Request,
    Response,
    FormData,
    Blob,
    DOMException,
    URL,
    URLSearchParams,
    TextEncoder,
    TextDecoder,
    Buffer,
    performance,
    structuredClone,
    queueMicrotask,
    atob,
    btoa,
    crypto: globalThis.crypto,
    Event,
    EventTarget,
    process,
    global: ctx.globalProxy,
    require: nodeRequire,
    // esbuild's CJS output assigns module.exports when the entry has exports; the global
    // `exports` must stay FiveM's exports function.
    module: { exports: new ctx.realm.Object() },
  };
}

function kvpGlobals(ctx: ScriptContext, k: Kernel, str: (v: unknown, what: string) => string) {
  const store = k.kvp(ctx.resource);
  const set = (key: unknown, value: unknown) => {
    if (ctx.alive) store.set(str(key, 'KVP key'), str(value, 'KVP value'));
  };
  const setNumber = (key: unknown, value: unknown, int: boolean) => {
    if (typeof value !== 'number') throw new ctx.realm.TypeError('KVP value must be a number');
    if (ctx.alive) store.set(str(key, 'KVP key'), String(int ? Math.trunc(value) : value));
  };
  const del = (key: unknown) => {
    if (ctx.alive) store.delete(String(key));
  };
  return {
    SetResourceKvp: set,
    SetResourceKvpNoSync: set,
    SetResourceKvpInt: (key: unknown, v: unknown) => setNumber(key, v, true),
    SetResourceKvpIntNoSync: (key: unknown, v: unknown) => setNumber(key, v, true),
    SetResourceKvpFloat: (key: unknown, v: unknown) => setNumber(key, v, false),
    SetResourceKvpFloatNoSync: (key: unknown, v: unknown) => setNumber(key, v, false),
    GetResourceKvpString: (key: unknown) => store.get(String(key)) ?? null,
    GetResourceKvpInt: (key: unknown) => Number.parseInt(store.get(String(key)) ?? '', 10) || 0,
    GetResourceKvpFloat: (key: unknown) => Number.parseFloat(store.get(String(key)) ?? '') || 0,
    DeleteResourceKvp: del,
    DeleteResourceKvpNoSync: del,
    FlushResourceKvp: () => undefined,
    StartFindKvp: (prefix: unknown) => k.startFindKvp(ctx.resource, String(prefix)),
    FindKvp: (handle: unknown) => k.findKvp(Number(handle)),
    EndFindKvp: (handle: unknown) => k.endFindKvp(Number(handle)),
  };
}

export function parseConvarInt(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(-?\d+)/.exec(value);
  return m?.[1] === undefined ? undefined : Number.parseInt(m[1], 10);
}
