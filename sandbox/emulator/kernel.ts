// The emulator's core: resources and their runtimes, players and the server's own state
// (convars, files, KVP). Events, commands and exports live beside it (events.ts,
// commands.ts, bridge.ts). The FxServer facade in index.ts is the API tests use; script
// globals call in here.
import { inspect } from 'node:util';
import { Bridge } from './bridge';
import { chatRefreshList, handleChatEvent } from './chat';
import { clientGlobals } from './client-globals';
import { Commands } from './commands';
import { commonGlobals, descriptors } from './common-globals';
import { ScriptContext } from './context';
import { Events } from './events';
import { LuaRuntime } from './lua/runtime';
import { Player } from './player';
import { serverGlobals } from './server-globals';
import { StateBags } from './statebags';
import {
  type ConvarOptions,
  type ErrorEntry,
  FX,
  type LogEntry,
  type PlayerOptions,
  type ResourceCode,
  type ResourceFiles,
  type ResourceState,
  type Side,
} from './types';

// Captured at import so emulator deliveries keep flowing under vi.useFakeTimers().
const realSetImmediate = globalThis.setImmediate;
const realClearImmediate = globalThis.clearImmediate;
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** The stock chat waits this long after a resource starts or stops before it refreshes. */
export const CHAT_REFRESH_MS = 500;

export type Fn = (...args: unknown[]) => unknown;

export const KVP_FIND_HANDLES = 64;

interface Resource extends Required<ResourceFiles> {
  name: string;
  server: string | undefined;
  client: string | undefined;
  state: Exclude<ResourceState, 'missing'>;
  serverCtx: ScriptContext | null;
  clientCtxs: Map<number, ScriptContext>;
}

export interface Origin {
  resource: string;
  side: Side;
  player: Player | null;
}

export class Kernel {
  readonly logs: LogEntry[] = [];
  readonly errors: ErrorEntry[] = [];
  readonly hashNames = new Map<number, string>();
  readonly zoneLabels = new Map<string, string>([
    ['ALTA', 'Alta'],
    ['DOWNT', 'Downtown'],
    ['MIRR', 'Mirror Park'],
    ['SANDY', 'Sandy Shores'],
    ['PALETO', 'Paleto Bay'],
    ['AIRP', 'Los Santos International Airport'],
  ]);
  readonly startedAt = performance.now();
  private readonly convars = new Map<string, { value: string } & ConvarOptions>();
  private readonly resources = new Map<string, Resource>();
  /** Resources started with startLuaResource: their server script is Lua. */
  private readonly luaResources = new Set<string>();
  private readonly startOrder: string[] = [];
  /** Dependency name → resources that named it (ResourceDependencyLoader.cpp resourceDependants). */
  private readonly dependants = new Map<string, Set<string>>();
  private readonly players = new Map<number, Player>();
  private nextPlayerId = 1;
  private readonly kvpStores = new Map<string, Map<string, string>>();
  /**
   * FXServer's 64 KVP search handles, shared by every resource (citizen-server-impl
   * ServerKVScriptFunctions.cpp, g_handles): the lowest free one is handed out, -1 when
   * all are taken, and only EndFindKvp frees one (a stopping resource does not).
   */
  private readonly kvpFinds: ({ keys: string[]; index: number } | null)[] = Array.from(
    { length: KVP_FIND_HANDLES },
    () => null,
  );
  private readonly pending = new Set<NodeJS.Immediate>();
  private readonly chatTimers = new Set<NodeJS.Timeout>();
  private closed = false;

  readonly events = new Events(this);
  readonly commands = new Commands(this);
  readonly bridge = new Bridge(this);
  readonly stateBags = new StateBags(this);

  constructor(
    private readonly echo: boolean,
    /** Model server builds 14427-27055, where a Node export's invoker is itself. */
    readonly invokerNamesSelf = false,
  ) {}

  // ---- logs and errors -------------------------------------------------------------

  log(entry: LogEntry): void {
    this.logs.push(entry);
    if (this.echo) {
      const who = entry.player === undefined ? entry.resource : `${entry.resource}@${entry.player}`;
      const level = entry.level === 'log' || entry.level === 'info' ? '' : ` ${entry.level}`;
      console.log(`[${who}${level}] ${entry.text}`);
    }
  }

  fxLog(level: LogEntry['level'], text: string): void {
    this.log({ resource: FX, side: 'server', level, text });
  }

  recordError(origin: Origin, where: string, error: unknown): void {
    const message =
      typeof (error as { message?: unknown })?.message === 'string'
        ? (error as { message: string }).message
        : String(error);
    const player = origin.player ? { player: origin.player.id } : {};
    this.errors.push({
      resource: origin.resource,
      side: origin.side,
      ...player,
      where,
      message,
      error,
    });
    const detail =
      typeof (error as { stack?: unknown })?.stack === 'string'
        ? (error as { stack: string }).stack
        : inspect(error);
    this.log({
      resource: origin.resource,
      side: origin.side,
      ...player,
      level: 'error',
      text: `SCRIPT ERROR in ${where}: ${detail}`,
    });
  }

  // ---- convars, files, KVP -----------------------------------------------------------

  setConvar(name: string, value: string, opts: ConvarOptions = {}): void {
    this.convars.set(name, { value: String(value), ...opts });
  }

  readConvar(ctx: ScriptContext, name: string): string | undefined {
    const c = this.convars.get(name);
    if (!c || (c.readableBy && !c.readableBy.includes(ctx.resource))) return undefined;
    return c.value;
  }

  readReplicatedConvar(name: string): string | undefined {
    const c = this.convars.get(name);
    return c?.replicated ? c.value : undefined;
  }

  // LOAD_RESOURCE_FILE, GET_RESOURCE_METADATA and GET_NUM_RESOURCE_METADATA look the
  // resource up with provides (MetadataScriptFunctions.cpp).
  resourceFile(res: string, path: string): string | null {
    return this.lookUpResource(res)?.files[path.replace(/^(\.\/|\/)+/, '')] ?? null;
  }

  resourceMetadata(res: string, key: string): string[] {
    return this.lookUpResource(res)?.metadata[key] ?? [];
  }

  /** The resource's own state, by its exact name (the test API). */
  resourceState(name: string): ResourceState {
    return this.resources.get(name)?.state ?? 'missing';
  }

  /** GET_RESOURCE_STATE as scripts see it: the name is looked up with provides. */
  scriptResourceState(name: string): ResourceState {
    return this.lookUpResource(name)?.state ?? 'missing';
  }

  /**
   * ResourceManagerImpl::GetResource(name, withProvides = true) (ResourceManager.cpp): the
   * resource of that name; if there is none, or it is stopped, the first resource (in
   * registration order) whose fxmanifest `provide`s the name and is started, or, when no
   * resource has the name at all, the first one that provides it whatever its state.
   * Provides are recorded when a resource is added (registered), not when it starts.
   */
  private lookUpResource(name: string): Resource | undefined {
    let found = this.resources.get(name);
    if (found && found.state !== 'stopped') return found;
    for (const res of this.resources.values()) {
      if (!(res.metadata.provide ?? []).includes(name)) continue;
      if (res.state === 'started' || !found) {
        found = res;
        break;
      }
    }
    return found;
  }

  kvp(resource: string): Map<string, string> {
    let store = this.kvpStores.get(resource);
    if (!store) {
      store = new Map();
      this.kvpStores.set(resource, store);
    }
    return store;
  }

  /** Iterates a snapshot of the keys as of the call, as a RocksDB iterator does. */
  startFindKvp(resource: string, prefix: string): number {
    const handle = this.kvpFinds.indexOf(null);
    if (handle === -1) return -1;
    const keys = [...this.kvp(resource).keys()].filter((k) => k.startsWith(prefix)).sort();
    this.kvpFinds[handle] = { keys, index: 0 };
    return handle;
  }

  findKvp(handle: number): string | null {
    const find = this.kvpFinds[handle];
    // FXServer dereferences a null iterator here (undefined behaviour); say so loudly.
    if (find === null) throw new Error(`FindKvp(${handle}): the handle is not open`);
    if (find === undefined) return null;
    return find.keys[find.index++] ?? null;
  }

  endFindKvp(handle: number): void {
    if (handle >= 0 && handle < KVP_FIND_HANDLES) this.kvpFinds[handle] = null;
  }

  /** Takes `count` search handles as other resources would; returns a function freeing them. */
  holdKvpHandles(count: number): () => void {
    const held: number[] = [];
    for (let i = 0; i < count; i++) {
      const h = this.startFindKvp('(held)', '');
      if (h === -1) break;
      held.push(h);
    }
    return () => {
      for (const h of held) this.endFindKvp(h);
    };
  }

  // ---- resources ---------------------------------------------------------------------

  registerResource(name: string, code: ResourceCode = {}): void {
    const existing = this.resources.get(name);
    if (existing) {
      if (code.server !== undefined) existing.server = code.server;
      if (code.client !== undefined) existing.client = code.client;
      if (code.files) existing.files = { ...code.files };
      if (code.metadata) existing.metadata = { ...code.metadata };
      return;
    }
    this.resources.set(name, {
      name,
      server: code.server,
      client: code.client,
      files: { ...code.files },
      metadata: { ...code.metadata },
      state: 'stopped',
      serverCtx: null,
      clientCtxs: new Map(),
    });
  }

  /** A resource whose server script is Lua (sandbox/emulator/lua); await loadLua() first. */
  startLuaResource(name: string, source: string): boolean {
    this.luaResources.add(name);
    return this.startResource(name, { server: source });
  }

  /** Returns false when the server script threw while loading (FXServer then aborts the start). */
  startResource(name: string, code: ResourceCode = {}): boolean {
    this.registerResource(name, code);
    const res = this.resources.get(name)!;
    if (res.state !== 'stopped') throw new Error(`resource ${name} is already ${res.state}`);
    res.state = 'starting';
    if (!this.startDependencies(res)) {
      res.state = 'stopped';
      this.fxLog('error', `Couldn't start resource ${name}.`);
      return false;
    }
    this.startOrder.push(name);
    if (res.server !== undefined) {
      const ctx = this.luaResources.has(name)
        ? new LuaRuntime(this, name)
        : new ScriptContext(this, name, 'server', null, (c) =>
            descriptors({ ...commonGlobals(c), ...serverGlobals(c) }),
          );
      res.serverCtx = ctx;
      if (!ctx.run(res.server, `@${name}/server.js`)) {
        this.fxLog('error', `Couldn't start resource ${name}.`);
        this.teardown(res);
        return false;
      }
    }
    const players = this.connectedPlayers();
    for (const p of players) this.startClient(res, p);
    res.state = 'started';
    this.events.emitServerLocal('onResourceStart', [name], null);
    this.events.emitServerLocal('onServerResourceStart', [name], null);
    for (const p of players) {
      this.events.emitClientLocal(p, 'onClientResourceStart', [name], null);
      this.events.emitClientLocal(p, 'onResourceStart', [name], null);
    }
    for (const p of players) this.refreshChat(p, true);
    return true;
  }

  /**
   * ResourceDependencyLoader.cpp: before a resource starts (its state already `starting`),
   * each `dependency` / `dependencies` entry is looked up with provides; a missing one
   * fails the start ("Could not find dependency"), a stopped one is started first (its
   * failure fails this start). Entries starting with `/` are version constraints
   * (`/server:N`, `/onesync`), treated as met.
   */
  private startDependencies(res: Resource): boolean {
    for (const key of ['dependency', 'dependencie']) {
      for (const dep of res.metadata[key] ?? []) {
        if (dep.startsWith('/')) continue;
        const other = this.lookUpResource(dep);
        if (!other) {
          this.fxLog('error', `Could not find dependency ${dep} for resource ${res.name}.`);
          return false;
        }
        const dependants = this.dependants.get(other.name) ?? new Set<string>();
        dependants.add(res.name);
        this.dependants.set(other.name, dependants);
        if (other.state === 'starting' || other.state === 'started') continue;
        if (!this.startResource(other.name)) {
          this.fxLog('error', `Could not start dependency ${dep} for resource ${res.name}.`);
          return false;
        }
      }
    }
    return true;
  }

  stopResource(name: string): boolean {
    const res = this.resources.get(name);
    if (res?.state !== 'started') {
      this.fxLog('warn', `Can't stop ${name}: it is ${res?.state ?? 'missing'}.`);
      return false;
    }
    res.state = 'stopping';
    // ResourceDependencyLoader.cpp (OnStop, first of all): the resources that named this
    // one as a dependency stop before it does.
    const dependants = this.dependants.get(name);
    this.dependants.delete(name);
    for (const dependant of dependants ?? []) {
      if (dependant !== name && this.resources.get(dependant)?.state === 'started') {
        this.stopResource(dependant);
      }
    }
    this.events.emitServerLocal('onResourceStop', [name], null);
    this.events.emitServerLocal('onServerResourceStop', [name], null);
    for (const p of this.connectedPlayers()) {
      this.events.emitClientLocal(p, 'onClientResourceStop', [name], null);
      this.events.emitClientLocal(p, 'onResourceStop', [name], null);
    }
    this.teardown(res);
    for (const p of this.connectedPlayers()) this.refreshChat(p, false);
    return true;
  }

  /** The stock chat's refreshCommands on the client and, on a start, on the server. */
  private refreshChat(player: Player, serverToo: boolean): void {
    if (this.closed) return;
    // Not a tracked delivery: settle() does not wait half a second for the chat.
    const timer = realSetTimeout(() => {
      this.chatTimers.delete(timer);
      if (this.closed || !player.connected) return;
      player.chatRefreshes++;
      const table = this.commands.client(player);
      const lists = [chatRefreshList(table.list(), (ace) => table.everyoneMay(ace))];
      if (serverToo) {
        lists.push(
          chatRefreshList(this.commands.server.list(), (ace) => this.aceAllowed(player.id, ace)),
        );
      }
      for (const list of lists) {
        if (list.length > 0) handleChatEvent(player, 'chat:addSuggestions', [list]);
      }
    }, CHAT_REFRESH_MS);
    this.chatTimers.add(timer);
  }

  private teardown(res: Resource): void {
    this.commands.resourceStopped(res.name);
    if (res.serverCtx) this.stateBags.resourceStopped(res.serverCtx);
    res.serverCtx?.destroy();
    res.serverCtx = null;
    for (const ctx of res.clientCtxs.values()) {
      ctx.destroy();
      // Its script handler goes with its thread, and the blips it made with it
      // (ResourceMissionCleanup.cpp: OnStop → DetachScriptHandler → CleanupObjectList).
      for (const [handle, blip] of ctx.player?.blipTable ?? []) {
        if (blip.resource === res.name) ctx.player?.blipTable.delete(handle);
      }
    }
    res.clientCtxs.clear();
    const i = this.startOrder.indexOf(res.name);
    if (i >= 0) this.startOrder.splice(i, 1);
    res.state = 'stopped';
  }

  private startClient(res: Resource, player: Player): void {
    if (res.client === undefined) return;
    const ctx = new ScriptContext(this, res.name, 'client', player, (c) =>
      descriptors({ ...commonGlobals(c), ...clientGlobals(c, player) }),
    );
    res.clientCtxs.set(player.id, ctx);
    ctx.run(res.client, `@${res.name}/client.js`);
  }

  serverContexts(): ScriptContext[] {
    const out: ScriptContext[] = [];
    for (const name of this.startOrder) {
      const ctx = this.resources.get(name)?.serverCtx;
      if (ctx?.alive) out.push(ctx);
    }
    return out;
  }

  clientContexts(player: Player): ScriptContext[] {
    const out: ScriptContext[] = [];
    for (const name of this.startOrder) {
      const ctx = this.resources.get(name)?.clientCtxs.get(player.id);
      if (ctx?.alive) out.push(ctx);
    }
    return out;
  }

  /** The runtime of `resource` on the server (scope null) or on a player's client. */
  runtimeOf(scope: Player | null, resource: string): ScriptContext | undefined {
    const res = this.resources.get(resource);
    const ctx = scope ? res?.clientCtxs.get(scope.id) : res?.serverCtx;
    return ctx?.alive ? ctx : undefined;
  }

  // ---- players -----------------------------------------------------------------------

  addPlayer(opts: PlayerOptions): Player {
    const player = new Player(this, this.nextPlayerId++, opts);
    this.players.set(player.id, player);
    this.zoneLabels.set(player.zone.code, player.zone.label);
    // The player's bag exists once it has a net id (ServerGameState.cpp, setupBag).
    this.stateBags.register(`player:${player.id}`);
    this.stateBags.sendAllInitial(player);
    this.events.emitServerLocal('playerJoining', [String(player.id)], null, { source: player.id });
    const started = this.startOrder
      .map((n) => this.resources.get(n)!)
      .filter((r) => r.state === 'started');
    for (const res of started) this.startClient(res, player);
    for (const res of started) {
      this.events.emitClientLocal(player, 'onClientResourceStart', [res.name], null);
      this.events.emitClientLocal(player, 'onResourceStart', [res.name], null);
    }
    this.refreshChat(player, true);
    return player;
  }

  dropPlayer(player: Player, reason: string): void {
    if (!player.connected) return;
    player.connected = false;
    for (const res of this.resources.values()) {
      res.clientCtxs.get(player.id)?.destroy();
      res.clientCtxs.delete(player.id);
    }
    // Player natives still answer inside playerDropped handlers, and its source is
    // `internal-net:<id>` (citizen-server-impl GameServer.cpp, DropClientInternal), which
    // the JS runtime turns into the number.
    this.events.emitServerLocal('playerDropped', [reason], null, {
      source: `internal-net:${player.id}`,
    });
    this.commands.playerLeft(player);
    // The bag belongs to the player's GameStateClientData and goes with it.
    this.stateBags.unregister(`player:${player.id}`);
    this.players.delete(player.id);
  }

  player(id: number): Player | undefined {
    return this.players.get(id);
  }

  connectedPlayers(): Player[] {
    return [...this.players.values()].filter((p) => p.connected);
  }

  /** Also finds a player whose playerDropped is being handled. */
  connectedOrDropping(src: unknown): Player | undefined {
    if (typeof src !== 'number' && typeof src !== 'string') return undefined;
    return this.players.get(Number(src));
  }

  playerByServerPed(ped: unknown): Player | undefined {
    const n = Number(ped);
    if (!n) return undefined;
    return [...this.players.values()].find((p) => p.serverPed === n && p.pedExists);
  }

  /**
   * IsPlayerAceAllowed: the console may do anything; an object is allowed when the player
   * holds it or one of its parents (`command` covers `command.911`), case-insensitively,
   * or when an unrestricted command granted it to everyone. There is no `*` wildcard
   * (code/client/citicore/se/Security.cpp, CheckPrivilege).
   */
  aceAllowed(src: unknown, ace: string): boolean {
    if (String(src) === '0') return true;
    const p = this.connectedOrDropping(src);
    if (!p) return false;
    const object = ace.toLowerCase();
    if (this.commands.server.everyoneMay(object)) return true;
    return p.aces.some((held) => {
      const g = held.toLowerCase();
      return g === object || object.startsWith(`${g}.`);
    });
  }

  /** GetInvokingResource() in `ctx`; see FxServerOptions.invokerNamesSelf. */
  invokingResource(ctx: ScriptContext): string | null {
    if (this.invokerNamesSelf && ctx.side === 'server' && this.bridge.inExportOf(ctx)) {
      return ctx.resource;
    }
    return this.bridge.invokingResource();
  }

  /** Runs `fn` on a later turn, as a network delivery; dropped after shutdown. */
  schedule(fn: () => void): void {
    if (this.closed) return;
    const handle = realSetImmediate(() => {
      this.pending.delete(handle);
      if (!this.closed) fn();
    });
    this.pending.add(handle);
  }

  // ---- lifetime ----------------------------------------------------------------------

  async settle(quietRounds = 3): Promise<void> {
    let quiet = 0;
    for (let i = 0; i < 10_000 && quiet < quietRounds; i++) {
      await new Promise<void>((resolve) => realSetImmediate(resolve));
      quiet = this.pending.size === 0 ? quiet + 1 : 0;
    }
  }

  /**
   * The process dies: every resource is gone at once, and none hears onResourceStop (no
   * goodbye, no last save). What a crash or a killed server looks like to the outside.
   */
  crash(): void {
    for (const name of [...this.startOrder].reverse()) {
      const res = this.resources.get(name);
      if (res) this.teardown(res);
    }
    this.shutdown();
  }

  shutdown(): void {
    for (const name of [...this.startOrder].reverse()) {
      if (this.resources.get(name)?.state === 'started') this.stopResource(name);
      else {
        const res = this.resources.get(name);
        if (res) this.teardown(res);
      }
    }
    for (const p of this.players.values()) p.connected = false;
    this.players.clear();
    for (const handle of this.pending) realClearImmediate(handle);
    for (const timer of this.chatTimers) realClearTimeout(timer);
    this.chatTimers.clear();
    this.pending.clear();
    this.kvpFinds.fill(null);
    this.closed = true;
  }
}
