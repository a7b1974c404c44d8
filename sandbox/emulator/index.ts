/**
 * A small FXServer emulator for tests: runs resource script bundles in `node:vm` contexts
 * the way FXServer does (one server runtime per resource, one client runtime per resource
 * and player) and gives them the FiveM globals as free identifiers.
 *
 * Every rule it follows is listed, with the citizenfx/fivem file it comes from, in
 * FXSERVER-RULES.md beside this file.
 *
 * const fx = new FxServer({ convars?: Record<string, string>, echo?: boolean,
 *                           invokerNamesSelf?: boolean (server builds 14427-27055) })
 *   fx.setConvar(name, value, { replicated?, readableBy?: string[] }?)
 *   fx.registerResource(name, { server?, client?, files?, metadata? })  exists, stopped
 *   fx.startResource(name, { server?, client?, files?, metadata? }): boolean
 *       registers if new (given fields replace stored ones), runs the server script, then
 *       the client script for every connected player, then emits onResourceStart and
 *       onServerResourceStart on every server runtime and onClientResourceStart and
 *       onResourceStart on every client. false (error recorded) if the server script threw.
 *   await fx.startLuaResource(name, luaSource): boolean   the same for a Lua server script
 *       (one file, run in a Lua 5.4 VM; see Semantics). false if it does not compile.
 *   fx.stopResource(name): boolean    onResourceStop everywhere, then drops the runtimes
 *       with their handlers, commands, exports and timers. KVP survives.
 *   fx.restartResource(name): boolean
 *   fx.resourceState(name)            'missing' | 'stopped' | 'starting' | 'started' | 'stopping'
 *       by the exact name (scripts' GetResourceState also resolves `provide`; see Semantics)
 *   fx.kvp(resource): Map<string, string>   the live store, to inspect or corrupt
 *   fx.holdKvpHandles(n): () => void  takes n of the 64 KVP search handles all resources share
 *   fx.registeredCommands(player?)    GetRegisteredCommands() of the server or a player's client
 *   fx.addPlayer({ name, identifiers, position, heading?, aces?, street?, crossing?,
 *                  zone?: { code, label }, clientPosition? }): Player
 *       ids from 1, never reused; fires playerJoining (source = id), starts client runtimes,
 *       then onClientResourceStart/onResourceStart for each started resource on that client.
 *   fx.player(id): Player | undefined;  fx.players(): Player[] (connected)
 *   fx.playerState(playerId, key): unknown   a key of the server's `player:<id>` state bag,
 *       decoded (a copy); undefined when unset or the player has no bag
 *   fx.setPlayerState(playerId, key, value): boolean   sets it replicated, as another
 *       resource's Player(id).state.set(key, value, true) would (change handlers run);
 *       false when the player has no bag
 *   fx.globalState(key): unknown      a key of the `global` bag (GlobalState)
 *   fx.emit(name, ...args)            local server event from outside any resource
 *   fx.emitClient(target, name, ...args)   as if a server script called emitNet
 *   fx.exportsOf(resource, { from? }) server exports; GetInvokingResource() = from ?? null
 *   fx.console(line): string[]        server command with source 0; returns the lines the
 *       resources printed during the synchronous run (emulator messages excluded)
 *   fx.logs: LogEntry[]  { resource, side, player?, level, text }  (emulator lines: 'fxserver')
 *   fx.serverLog(resource?): string[];  fx.clientLog(playerId?, resource?): string[]
 *   fx.errors: ErrorEntry[]  { resource, side, player?, where, message, error }: every throw
 *       or rejection from a handler, command, timer, tick, export or script load
 *   await fx.settle()                 until no emulator net delivery is pending
 *   await fx.waitFor(pred, { timeoutMs = 3000, what, intervalMs = 5 }): the truthy value
 *   fx.shutdown()                     stops everything; call it in afterEach
 *   fx.crash()                        the process dies: everything goes, no onResourceStop
 *
 * Player: id, name, identifiers, position, clientPosition, heading, aces, street, crossing,
 *   zone (all mutable), chat: { author?, text, color? }[], suggestions: Map<name,
 *   { help, params }>, received: { name, args }[] (server→client net events), connected,
 *   move(x, y, z, heading?), setClientPosition(x, y, z), drop(reason?), type('/911 ...'),
 *   emitNet(name, ...args) (as the client, e.g. a forged event), emit(name, ...args) (client
 *   local), chatText(): string[], blips: { handle, resource, x, y, z, sprite, colour, scale,
 *   name, shortRange, flashes, route }[] (the live map blips its client scripts made;
 *   a removed one is gone), stateView (its client copy of the state bags).
 *
 * Semantics worth knowing:
 * - Net events (both ways) are delivered on a later setImmediate; local emits are
 *   synchronous. Every value crossing runtimes (event arguments, export arguments and
 *   returns, callback calls) is really msgpack-encoded by the sender (throwing there on a
 *   cycle or absurd depth) and decoded by each receiver into its own realm, by msgpack.ts
 *   with main.js's codec rules (data/shared/citizen/scripting/v8/main.js, msgpack.js):
 *   undefined → null, int32 → int, other numbers (NaN/±Infinity too) → float64, class
 *   instances → plain objects of their own keys, Date/Map/Set → {}, ArrayBuffer → bin →
 *   ArrayBuffer, Uint8Array/Buffer → a map of index keys, map integer keys → string keys.
 *   Functions → ext 10 references `resource:instance:index` (a fresh one per packing),
 *   callable later; calling packs the arguments and the return values ([] → undefined,
 *   [v] → v, more → the array); a function returning a promise gives its caller a promise
 *   (main.js __cfx_async_retval). A reference that arrived over the network, or whose
 *   runtime stopped, throws "Error in nested ref call for <holder>. ..." when called.
 *   A Lua vector arrives as an ExtBuffer { buffer: 8/12/16 bytes of little-endian float32,
 *   type: 20/21/22 } and goes back to Lua as the same vector.
 * - `source` is set only while a handler runs synchronously (player id on the server for
 *   net events, playerDropped and player commands, 0 for the console, '' for local events;
 *   65535 on a client for server events), then null, as main.js does.
 * - onNet names only: an event from the network to a name registered with plain `on`
 *   is refused and logged "event X was not safe for net".
 * - Commands: the line is tokenized like FXServer's console (`#` and `//` end it, quotes
 *   vanish, JSON stays whole) and the handler also gets the raw line; the client's command
 *   first (handler(0, args, raw)), else the raw line goes to the server. One slot per name
 *   and side: the first registration owns it, the last one's handler runs, the owner's stop
 *   removes it. Restricted server commands need ACE `command.<name>`; ACEs are hierarchical
 *   (`command` grants `command.x`) and case-insensitive, with no `*` wildcard; the console
 *   (source 0) is always allowed. Player commands reach the server synchronously; one the
 *   server lacks too raises `__cfx_internal:commandFallback` and the stock chat shows it as
 *   a message. The stock chat's refresh re-suggests every command a player may run
 *   (player.chatRefreshes counts).
 * - Player.losePed(): GetPlayerPed keeps the handle, GetEntityCoords on it throws.
 * - A throwing export is recorded in fx.errors (FXServer prints it) and the caller gets
 *   "An error occurred while calling export ...". Exports resolve at access time:
 *   `exports.x.y` throws "No such export y in resource x" when missing or stopped.
 * - Lua resources (fx.startLuaResource) run in a real Lua 5.4 VM (wasmoon) with a
 *   scheduler.lua-like prelude (sandbox/emulator/lua): values reach JS only as bytes of a
 *   lua-cmsgpack-style encoder (integers as ints, floats as float64, strings as v4 raw, a
 *   table with keys 1..n as an array, an empty table as [], any other table as a map with
 *   its keys as they are: {1, nil, 3} → { '1': 1, '3': 3 }; tables nested 16 deep → nil;
 *   functions → references). `exports.res:name(...)` drops its first argument as self (so
 *   `exports.res.name(a, b)` calls name(b)); a JS export's promise is awaited inside a Lua
 *   thread (every handler, ref call and the main chunk run in one) and its rejection, or a
 *   JS throw ("nil"), raises "An error occurred while calling export `name` in resource
 *   `res`: ..." in Lua. Natives there: print, Citizen.*, Wait, CreateThread, SetTimeout,
 *   promise, json, vector2/3/4 (tables, float32 components), AddEventHandler,
 *   RegisterNetEvent, TriggerEvent, TriggerClientEvent, GetPlayers, GetPlayerPed,
 *   GetEntityCoords (a vector3; throws on a missing entity), GetEntityHeading,
 *   GetPlayerName, GetPlayerIdentifiers, GetInvokingResource, GetCurrentResourceName,
 *   GetConvar, IsPlayerAceAllowed, GetResourceState, GetGameTimer, and the state bag
 *   globals above.
 * - Resource timers and `Date` are the host's at call time, so vi.useFakeTimers() and
 *   vi.setSystemTime() drive them; emulator deliveries, settle() and waitFor use real
 *   timers captured at import. Server `fetch` is looked up at call time too
 *   (vi.stubGlobal works). Server `require` serves Node built-ins only.
 * - A promise rejected inside a script with nobody awaiting it (a floating `void f()`)
 *   cannot be traced to a runtime: Node reports it as an unhandled rejection, which
 *   fails the vitest run instead of landing in fx.errors. Rejections of promises returned
 *   by handlers, commands and timers are recorded; those of exports and callbacks go to
 *   the caller's promise, as main.js sends them.
 * - State bags (statebags.ts): the server has `global` and, from addPlayer until the
 *   player is dropped (after playerDropped), `player:<id>`. Server JS and Lua:
 *   Player(src).state.key reads (null/nil when unset; other Player keys are null),
 *   .state.set(key, v, replicated) (Lua state:set), assignment sets replicated (Lua too),
 *   GlobalState, natives GetStateBagValue, SetStateBagValue (false for a missing bag),
 *   StateBagHasKey, GetStateBagKeys, AddStateBagChangeHandler(keyFilter, bagFilter,
 *   (bag, key, value, source, replicated)) (null/'' filters match all; Lua too),
 *   RemoveStateBagChangeHandler, GetPlayerFromStateBagName. A value is stored as the
 *   msgpack bytes its setter packed, so each read is a fresh copy; nil deletes. Change
 *   handlers run synchronously before the value is stored (they see the old one with
 *   GetStateBagValue), even when it does not change, with source 0 for a server set;
 *   a resource's handlers go when it stops. A changed replicated key reaches clients on a
 *   later turn: `global` to all, `player:<id>` to that player only (no scope: other
 *   players never see it); a joining client gets every global key, replicated or not.
 *   Client JS: LocalPlayer.state / Player(id).state / GlobalState read that copy; a set
 *   changes the copy and, if replicated, reaches the server later (own bag or global
 *   only, source = the player; refused under `setr sv_stateBagStrictMode true`). No
 *   client change handlers, no entity bags.
 * - `provide`: metadata { provide: ['qb-core'] } makes scripts' GetResourceState,
 *   GetResourceMetadata, GetNumResourceMetadata, LoadResourceFile and `dependency`
 *   entries resolve 'qb-core' to the provider when no 'qb-core' resource exists (whatever
 *   the provider's state) or it is stopped (then only a started provider). Exports do not:
 *   `exports['qb-core'].x` is the local event `__cfx_export_qb-core_x`, so it fails unless
 *   some runtime handles that event with setCB(fn) (as qbx_core does); the emulator asks
 *   that event (JS callers and exportsOf) when no resource of the name exports x.
 * - Dependencies: metadata `dependency` / `dependencie` entries (the fxmanifest
 *   `dependencies` list) start first, resolved with provides; a missing one fails the
 *   start ("Could not find dependency"); `/...` constraints count as met. Stopping a
 *   resource first stops the started resources that depend on it.
 * - Client blips: AddBlipForCoord, SetBlipSprite/Colour/Scale/AsShortRange/Flashes/Route/
 *   Coords, GetBlipSprite/Colour, BeginTextCommandSetBlipName('STRING') +
 *   AddTextComponentSubstringPlayerName (or AddTextComponentString) +
 *   EndTextCommandSetBlipName, RemoveBlip, DoesBlipExist; natives on a handle that is no
 *   blip do nothing. A resource's blips are removed when it stops (after its stop events).
 * - Street/zone natives answer from the player's street/crossing/zone whatever the
 *   coordinates; GetLabelText knows those zones and a few stock ones, else 'NULL'.
 * - Client GetConvar sees only convars set with { replicated: true }.
 */
import { hostRealm } from './copy';
import { Kernel } from './kernel';
import { loadLua } from './lua/runtime';
import type { Player } from './player';
import type {
  ConvarOptions,
  ErrorEntry,
  LogEntry,
  PlayerOptions,
  ResourceCode,
  ResourceState,
} from './types';

export type { Player } from './player';
export type * from './types';

export interface FxServerOptions {
  convars?: Record<string, string>;
  /** Print every log line as it happens. */
  echo?: boolean;
  /**
   * Model server builds 14427 to 27055: inside a Node 22 export GetInvokingResource()
   * names the exporting resource itself (citizenfx/fivem af627f736, undone by e5276bd86).
   */
  invokerNamesSelf?: boolean;
}

export interface WaitForOptions {
  timeoutMs?: number;
  what?: string;
  intervalMs?: number;
}

// Real timers, so waitFor keeps polling under vi.useFakeTimers().
const realSetTimeout = globalThis.setTimeout;

export class FxServer {
  private readonly k: Kernel;

  constructor(opts: FxServerOptions = {}) {
    this.k = new Kernel(opts.echo ?? false, opts.invokerNamesSelf ?? false);
    for (const [name, value] of Object.entries(opts.convars ?? {})) this.k.setConvar(name, value);
  }

  get logs(): LogEntry[] {
    return this.k.logs;
  }

  get errors(): ErrorEntry[] {
    return this.k.errors;
  }

  setConvar(name: string, value: string, opts?: ConvarOptions): void {
    this.k.setConvar(name, value, opts);
  }

  registerResource(name: string, code: ResourceCode = {}): void {
    this.k.registerResource(name, code);
  }

  startResource(name: string, code: ResourceCode = {}): boolean {
    return this.k.startResource(name, code);
  }

  /** Starts a resource whose server script is Lua, in a Lua 5.4 VM (sandbox/emulator/lua). */
  async startLuaResource(name: string, source: string): Promise<boolean> {
    await loadLua();
    return this.k.startLuaResource(name, source);
  }

  stopResource(name: string): boolean {
    return this.k.stopResource(name);
  }

  restartResource(name: string): boolean {
    this.k.stopResource(name);
    return this.k.startResource(name);
  }

  resourceState(name: string): ResourceState {
    return this.k.resourceState(name);
  }

  kvp(resource: string): Map<string, string> {
    return this.k.kvp(resource);
  }

  /** Takes `count` of the 64 shared KVP search handles, as busy resources would; returns a release. */
  holdKvpHandles(count: number): () => void {
    return this.k.holdKvpHandles(count);
  }

  /** GetRegisteredCommands() as the server, or as a player's client, sees it. */
  registeredCommands(player?: Player): { name: string; resource: string; arity: number }[] {
    return (player ? this.k.commands.client(player) : this.k.commands.server).list();
  }

  addPlayer(opts: PlayerOptions): Player {
    return this.k.addPlayer(opts);
  }

  player(id: number): Player | undefined {
    return this.k.player(id);
  }

  players(): Player[] {
    return this.k.connectedPlayers();
  }

  /** A key of the `player:<id>` state bag, decoded (undefined when the bag has no such key). */
  playerState(playerId: number, key: string): unknown {
    const bytes = this.k.stateBags.get(`player:${playerId}`, key);
    return bytes ? this.k.bridge.unpack(bytes, null) : undefined;
  }

  /**
   * Sets a key of the `player:<id>` state bag replicated, as another resource's
   * `Player(id).state.set(key, value, true)` would (change handlers run); false when the
   * player has no bag (not connected).
   */
  setPlayerState(playerId: number, key: string, value: unknown): boolean {
    return this.k.stateBags.set(
      0,
      `player:${playerId}`,
      key,
      this.k.bridge.pack(value, null),
      true,
    );
  }

  /** A key of the `global` state bag (GlobalState), decoded; undefined when missing. */
  globalState(key: string): unknown {
    const bytes = this.k.stateBags.get('global', key);
    return bytes ? this.k.bridge.unpack(bytes, null) : undefined;
  }

  emit(name: string, ...args: unknown[]): void {
    this.k.events.emitServerLocal(name, args, null);
  }

  emitClient(target: number, name: string, ...args: unknown[]): void {
    this.k.events.sendToClients(target, name, args);
  }

  /** Pass a type for the resource's exports to get typed calls. */
  exportsOf<T = Record<string, (...args: unknown[]) => unknown>>(
    resource: string,
    opts: { from?: string } = {},
  ): T {
    return this.k.bridge.exportTable(null, resource, null, opts.from ?? null, hostRealm) as T;
  }

  console(line: string): string[] {
    return this.k.commands.console(line);
  }

  serverLog(resource?: string): string[] {
    return this.logs
      .filter((e) => e.side === 'server' && (resource === undefined || e.resource === resource))
      .map((e) => e.text);
  }

  clientLog(playerId?: number, resource?: string): string[] {
    return this.logs
      .filter(
        (e) =>
          e.side === 'client' &&
          (playerId === undefined || e.player === playerId) &&
          (resource === undefined || e.resource === resource),
      )
      .map((e) => e.text);
  }

  settle(): Promise<void> {
    return this.k.settle();
  }

  async waitFor<T>(predicate: () => T | Promise<T>, opts: WaitForOptions = {}): Promise<T> {
    const { timeoutMs = 3000, what = 'condition', intervalMs = 5 } = opts;
    const deadline = performance.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const value = await predicate();
        if (value) return value;
      } catch (error) {
        lastError = error;
      }
      if (performance.now() >= deadline) break;
      await new Promise((resolve) => realSetTimeout(resolve, intervalMs));
    }
    const tail = this.logs.slice(-10).map((e) => `  [${e.resource} ${e.side}] ${e.text}`);
    const lines = [`waitFor timed out after ${timeoutMs} ms: ${what}`];
    if (lastError !== undefined) lines.push(`last predicate error: ${String(lastError)}`);
    if (this.errors.length)
      lines.push(`script errors: ${this.errors.map((e) => e.message).join('; ')}`);
    if (tail.length) lines.push('last log lines:', ...tail);
    throw new Error(lines.join('\n'));
  }

  shutdown(): void {
    this.k.shutdown();
  }

  crash(): void {
    this.k.crash();
  }
}
