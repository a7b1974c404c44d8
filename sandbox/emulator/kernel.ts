// The emulator's core: resources and their runtimes, players and the server's own state
// (convars, files, KVP). Events, commands and exports live beside it (events.ts,
// commands.ts, bridge.ts). The FxServer facade in index.ts is the API tests use; script
// globals call in here.
import { inspect } from 'node:util';
import { Bridge } from './bridge';
import { clientGlobals } from './client-globals';
import { Commands } from './commands';
import { commonGlobals, descriptors } from './common-globals';
import { ScriptContext } from './context';
import { Events } from './events';
import { Player } from './player';
import { serverGlobals } from './server-globals';
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

export type Fn = (...args: unknown[]) => unknown;

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
  private readonly startOrder: string[] = [];
  private readonly players = new Map<number, Player>();
  private nextPlayerId = 1;
  private readonly kvpStores = new Map<string, Map<string, string>>();
  private readonly kvpFinds = new Map<number, { keys: string[]; index: number }>();
  private nextFindHandle = 1;
  private readonly pending = new Set<NodeJS.Immediate>();
  private closed = false;

  readonly events = new Events(this);
  readonly commands = new Commands(this);
  readonly bridge = new Bridge(this);

  constructor(private readonly echo: boolean) {}

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

  resourceFile(res: string, path: string): string | null {
    return this.resources.get(res)?.files[path.replace(/^(\.\/|\/)+/, '')] ?? null;
  }

  resourceMetadata(res: string, key: string): string[] {
    return this.resources.get(res)?.metadata[key] ?? [];
  }

  resourceState(name: string): ResourceState {
    return this.resources.get(name)?.state ?? 'missing';
  }

  kvp(resource: string): Map<string, string> {
    let store = this.kvpStores.get(resource);
    if (!store) {
      store = new Map();
      this.kvpStores.set(resource, store);
    }
    return store;
  }

  startFindKvp(resource: string, prefix: string): number {
    const keys = [...this.kvp(resource).keys()].filter((k) => k.startsWith(prefix)).sort();
    const handle = this.nextFindHandle++;
    this.kvpFinds.set(handle, { keys, index: 0 });
    return handle;
  }

  findKvp(handle: number): string | null {
    const find = this.kvpFinds.get(handle);
    if (!find) return null;
    return find.keys[find.index++] ?? null;
  }

  endFindKvp(handle: number): void {
    this.kvpFinds.delete(handle);
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

  /** Returns false when the server script threw while loading (FXServer then aborts the start). */
  startResource(name: string, code: ResourceCode = {}): boolean {
    this.registerResource(name, code);
    const res = this.resources.get(name)!;
    if (res.state !== 'stopped') throw new Error(`resource ${name} is already ${res.state}`);
    res.state = 'starting';
    this.startOrder.push(name);
    if (res.server !== undefined) {
      const ctx = new ScriptContext(this, name, 'server', null, (c) =>
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
    return true;
  }

  stopResource(name: string): boolean {
    const res = this.resources.get(name);
    if (res?.state !== 'started') {
      this.fxLog('warn', `Can't stop ${name}: it is ${res?.state ?? 'missing'}.`);
      return false;
    }
    res.state = 'stopping';
    this.events.emitServerLocal('onResourceStop', [name], null);
    this.events.emitServerLocal('onServerResourceStop', [name], null);
    for (const p of this.connectedPlayers()) {
      this.events.emitClientLocal(p, 'onClientResourceStop', [name], null);
      this.events.emitClientLocal(p, 'onResourceStop', [name], null);
    }
    this.teardown(res);
    return true;
  }

  private teardown(res: Resource): void {
    res.serverCtx?.destroy();
    res.serverCtx = null;
    for (const ctx of res.clientCtxs.values()) ctx.destroy();
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
    this.events.emitServerLocal('playerJoining', [String(player.id)], null, { source: player.id });
    const started = this.startOrder
      .map((n) => this.resources.get(n)!)
      .filter((r) => r.state === 'started');
    for (const res of started) this.startClient(res, player);
    for (const res of started) {
      this.events.emitClientLocal(player, 'onClientResourceStart', [res.name], null);
      this.events.emitClientLocal(player, 'onResourceStart', [res.name], null);
    }
    return player;
  }

  dropPlayer(player: Player, reason: string): void {
    if (!player.connected) return;
    player.connected = false;
    for (const res of this.resources.values()) {
      res.clientCtxs.get(player.id)?.destroy();
      res.clientCtxs.delete(player.id);
    }
    // Player natives still answer inside playerDropped handlers, as in FXServer.
    this.events.emitServerLocal('playerDropped', [reason], null, { source: player.id });
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
    return [...this.players.values()].find((p) => p.serverPed === n);
  }

  aceAllowed(src: unknown, ace: string): boolean {
    if (String(src) === '0') return true;
    const p = this.connectedOrDropping(src);
    return !!p?.aces.some((g) => g === '*' || g === ace || ace.startsWith(`${g}.`));
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
    this.pending.clear();
    this.kvpFinds.clear();
    this.closed = true;
  }
}
