// State bags as FXServer keeps them (citizen-resources-core StateBagComponent.cpp): named
// bags of msgpack-encoded values. The server holds `global` and one `player:<serverId>`
// bag per connected player (ServerGameState.cpp registers it, the player's client data
// owns it, so it goes with the player). Scripts reach them through GetStateBagValue /
// SetStateBagValue (ResourceScriptFunctions.cpp), wrapped by main.js and scheduler.lua as
// `Player(src).state` and `GlobalState`. Values are stored as the bytes the setter packed,
// so every read decodes a fresh copy in the reader's realm.
import type { ScriptContext } from './context';
import type { Kernel } from './kernel';
import type { Player } from './player';

/** msgpack nil: setting it deletes the key (StateBagImpl::SetKeyInternal). */
const NIL = 0xc0;

interface ChangeHandler {
  cookie: number;
  ctx: ScriptContext;
  keyFilter: string;
  bagFilter: string;
  /** Calls the handler with (bagName, key, value bytes, source, replicated). */
  call: (bag: string, key: string, value: Uint8Array, source: number, replicated: boolean) => void;
}

export class StateBags {
  private readonly bags = new Map<string, Map<string, Uint8Array>>();
  private readonly handlers: ChangeHandler[] = [];
  private nextCookie = 0;

  constructor(private readonly k: Kernel) {
    this.register('global');
  }

  register(name: string): void {
    if (!this.bags.has(name)) this.bags.set(name, new Map());
  }

  unregister(name: string): void {
    this.bags.delete(name);
  }

  has(name: string): boolean {
    return this.bags.has(name);
  }

  /** GET_STATE_BAG_VALUE: the stored bytes, or null for a missing bag or key (read as nil). */
  get(bag: string, key: string): Uint8Array | null {
    return this.bags.get(bag)?.get(key) ?? null;
  }

  keys(bag: string): string[] {
    return [...(this.bags.get(bag)?.keys() ?? [])];
  }

  /**
   * SET_STATE_BAG_VALUE: false for a missing bag. Change handlers run first, synchronously
   * (the server's main thread runs the queued task at once: GameServer.cpp
   * CallbackListBase::Add), with the new value while the bag still holds the old one; then
   * the value is stored, nil deleting the key (StateBagImpl::SetKey, SetKeyInternal).
   */
  set(source: number, bag: string, key: string, value: Uint8Array, replicated: boolean): boolean {
    const data = this.bags.get(bag);
    if (!data) return false;
    for (const h of [...this.handlers]) {
      if (!h.ctx.alive || !this.handlers.includes(h)) continue;
      if (h.keyFilter !== '' && h.keyFilter !== key) continue;
      if (h.bagFilter !== '' && h.bagFilter !== bag) continue;
      h.call(bag, key, value, source, replicated);
    }
    // SetKeyInternal: nil deletes (a new nil is dropped, not sent); an unchanged value is
    // not sent either; a changed replicated one goes to the bag's routing targets.
    const old = data.get(key);
    const stored = value.slice();
    if (value[0] === NIL) {
      if (!old) return true;
      data.delete(key);
    } else if (old && sameBytes(old, stored)) {
      return true;
    } else {
      data.set(key, stored);
    }
    if (replicated) this.replicate(bag, key, stored);
    return true;
  }

  /**
   * Sends a key to the clients that get this bag, on a later turn (a packet): `global` to
   * every connected player, `player:<id>` to that player, its owning peer
   * (ServerGameState.cpp setupBag). Players who only have the player in scope get it too
   * in FXServer; the emulator has no scope, so they do not.
   */
  private replicate(bag: string, key: string, value: Uint8Array): void {
    for (const p of this.targets(bag)) {
      this.k.schedule(() => {
        if (p.connected) writeView(p.stateView, bag, key, value);
      });
    }
  }

  private targets(bag: string): Player[] {
    if (bag === 'global') return this.k.connectedPlayers();
    const m = /^player:(\d+)$/.exec(bag);
    const p = m ? this.k.player(Number(m[1])) : undefined;
    return p?.connected ? [p] : [];
  }

  /**
   * A joining client gets every key of the global bag, replicated or not (StateBagImpl
   * SendAllInitial → SendAll sends all of m_data).
   */
  sendAllInitial(player: Player): void {
    for (const [key, value] of this.bags.get('global') ?? []) {
      writeView(player.stateView, 'global', key, value);
    }
  }

  /**
   * A client's replicated set reaches the server later (StateBagComponentImpl::HandlePacket):
   * applied, replicated, when the bag has no owning peer (`global`: any client may write
   * it unless sv_stateBagStrictMode) or the client owns it (its own `player:<id>`).
   */
  fromClient(player: Player, bag: string, key: string, value: Uint8Array): void {
    const bytes = value.slice();
    this.k.schedule(() => {
      if (!player.connected) return;
      if (bag !== 'global' && bag !== `player:${player.id}`) return;
      this.set(player.id, bag, key, bytes, true);
    });
  }

  /**
   * ADD_STATE_BAG_CHANGE_HANDLER: an empty filter matches everything; answers a cookie.
   * `call` gets the packed arguments (bagName, key, value, source, replicated), as
   * rm->CallReference packs them for the handler's runtime.
   */
  addHandler(
    ctx: ScriptContext,
    keyFilter: unknown,
    bagFilter: unknown,
    call: (args: Uint8Array) => void,
  ): number {
    const cookie = this.nextCookie++;
    const bridge = this.k.bridge;
    this.handlers.push({
      cookie,
      ctx,
      keyFilter: typeof keyFilter === 'string' ? keyFilter : '',
      bagFilter: typeof bagFilter === 'string' ? bagFilter : '',
      call: (bag, key, value, source, replicated) =>
        call(
          joinArgs(bridge.pack([bag, key], null), value, bridge.pack([source, replicated], null)),
        ),
    });
    return cookie;
  }

  removeHandler(cookie: number): void {
    const i = this.handlers.findIndex((h) => h.cookie === cookie);
    if (i >= 0) this.handlers.splice(i, 1);
  }

  /** The resource's OnStop disconnects its handlers (ResourceScriptFunctions.cpp). */
  resourceStopped(ctx: ScriptContext): void {
    for (let i = this.handlers.length - 1; i >= 0; i--) {
      if (this.handlers[i]!.ctx === ctx) this.handlers.splice(i, 1);
    }
  }
}

/**
 * One msgpack array of five values from the packed arrays [bag, key] and [source,
 * replicated] and the value's own bytes.
 */
function joinArgs(head: Uint8Array, value: Uint8Array, tail: Uint8Array): Uint8Array {
  // Both small arrays are fixarrays of two (0x92): drop their headers.
  const out = new Uint8Array(1 + head.length - 1 + value.length + tail.length - 1);
  out[0] = 0x95;
  out.set(head.subarray(1), 1);
  out.set(value, head.length);
  out.set(tail.subarray(1), head.length + value.length);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Applies a key to a client's copy of a bag (nil deletes). */
function writeView(
  view: Map<string, Map<string, Uint8Array>>,
  bag: string,
  key: string,
  value: Uint8Array,
): void {
  let data = view.get(bag);
  if (!data) {
    data = new Map();
    view.set(bag, data);
  }
  if (value[0] === NIL) data.delete(key);
  else data.set(key, value);
}

/** Bytes of a payload a script hands SET_STATE_BAG_VALUE (a Uint8Array/Buffer or a string). */
function payloadBytes(payload: unknown, size: unknown): Uint8Array {
  const bytes = ArrayBuffer.isView(payload)
    ? new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)
    : new TextEncoder().encode(String(payload ?? ''));
  const n = Number(size);
  return Number.isInteger(n) && n >= 0 && n < bytes.length ? bytes.subarray(0, n) : bytes;
}

interface BagAccess {
  get(bag: string, key: string): Uint8Array | null;
  set(bag: string, key: string, value: Uint8Array, replicated: boolean): boolean;
  keys(bag: string): string[];
  has(bag: string): boolean;
}

/**
 * NewStateBag, Player and GlobalState as data/shared/citizen/scripting/v8/main.js builds
 * them over GET_STATE_BAG_VALUE / SET_STATE_BAG_VALUE, for one side's bags.
 */
function jsStateBagGlobals(
  ctx: ScriptContext,
  bags: BagAccess,
  localServerId: () => number,
): Record<string, unknown> {
  const k = ctx.kernel;
  const isDuplicityVersion = ctx.side === 'server';
  const getValue = (bag: unknown, key: unknown) => {
    const bytes = bags.get(String(bag), String(key));
    // A missing bag or key answers msgpack nil, which the JS native wrapper unpacks to null.
    return bytes ? k.bridge.unpack(bytes, ctx) : null;
  };
  const setValue = (bag: unknown, key: unknown, payload: unknown, size: unknown, rep: unknown) => {
    if (!ctx.alive) return false;
    return bags.set(String(bag), String(key), payloadBytes(payload, size), rep === true);
  };
  // main.js NewStateBag: `set` answers the setter, any other key reads; assignment sets
  // with replicated = isDuplicityVersion.
  const newStateBag = (es: unknown) =>
    new Proxy(new ctx.realm.Object(), {
      get: (_t, key) => {
        if (key === 'set') {
          return (s: unknown, v: unknown, r: unknown) => {
            const payload = k.bridge.pack(v, ctx);
            setValue(es, s, payload, payload.length, r);
          };
        }
        return getValue(es, String(key));
      },
      set: (_t, key, v) => {
        const payload = k.bridge.pack(v, ctx);
        setValue(es, String(key), payload, payload.length, isDuplicityVersion);
        return true;
      },
    });
  // main.js playerTM: only `state` answers (others null); setting anything throws;
  // Player(-1) is the local player (GetPlayerServerId(PlayerId())).
  const player = (ent: unknown) => {
    if (typeof ent !== 'number' && typeof ent !== 'string') return ent;
    const id = Number(ent);
    return new Proxy(Object.assign(new ctx.realm.Object(), { __data: id }), {
      get: (_t, key) =>
        key === 'state' ? newStateBag(`player:${id === -1 ? localServerId() : id}`) : null,
      set: () => {
        throw new ctx.realm.Error('Not allowed at this time.');
      },
    });
  };
  return {
    GetStateBagValue: getValue,
    SetStateBagValue: setValue,
    StateBagHasKey: (bag: unknown, key: unknown) =>
      bags.has(String(bag)) && bags.get(String(bag), String(key)) !== null,
    GetStateBagKeys: (bag: unknown) => ctx.realm.Array.from(bags.keys(String(bag))),
    NewStateBag: newStateBag,
    GlobalState: newStateBag('global'),
    Player: player,
  };
}

/** The server JS runtime's state bag globals: the kernel's bags, change handlers. */
export function serverStateBagGlobals(ctx: ScriptContext): Record<string, unknown> {
  const k = ctx.kernel;
  const bags = k.stateBags;
  return {
    ...jsStateBagGlobals(
      ctx,
      {
        get: (bag, key) => bags.get(bag, key),
        set: (bag, key, value, replicated) => bags.set(0, bag, key, value, replicated),
        keys: (bag) => bags.keys(bag),
        has: (bag) => bags.has(bag),
      },
      () => -1,
    ),
    AddStateBagChangeHandler: (keyFilter: unknown, bagFilter: unknown, handler: unknown) => {
      if (typeof handler !== 'function') {
        throw new ctx.realm.TypeError('AddStateBagChangeHandler: handler must be a function');
      }
      if (!ctx.alive) return -1;
      return bags.addHandler(ctx, keyFilter, bagFilter, (args) => {
        const list = k.bridge.unpack(args, ctx) as unknown[];
        ctx.invoke('state bag change handler', () => handler(...list));
      });
    },
    RemoveStateBagChangeHandler: (cookie: unknown) => bags.removeHandler(Number(cookie)),
    GetPlayerFromStateBagName: (bag: unknown) => {
      const m = /^player:(\d+)/.exec(String(bag));
      const p = m ? k.player(Number(m[1])) : undefined;
      return p?.connected ? p.id : 0;
    },
  };
}

/**
 * The client JS runtime's state bag globals over the player's copy of the bags it was
 * sent (`LocalPlayer.state`). A set changes the copy; a replicated one is also sent to
 * the server (refused with a warning under `setr sv_stateBagStrictMode true`).
 * ResourceScriptFunctions.cpp SET_STATE_BAG_VALUE (client part). Client change handlers
 * are not emulated.
 */
export function clientStateBagGlobals(ctx: ScriptContext, player: Player): Record<string, unknown> {
  const k = ctx.kernel;
  const view = player.stateView;
  const globals = jsStateBagGlobals(
    ctx,
    {
      get: (bag, key) => view.get(bag)?.get(key) ?? null,
      set: (bag, key, value, replicated) => {
        if (replicated && k.readReplicatedConvar('sv_stateBagStrictMode') === 'true') {
          k.log({
            resource: ctx.resource,
            side: 'client',
            player: player.id,
            level: 'warn',
            text: "StateBags can't be modified from the client, because the StateBag strict mode is enabled. Disable it using setr sv_stateBagStrictMode false",
          });
          return false;
        }
        if (!view.has(bag) && bag !== 'global' && bag !== `player:${player.id}`) return false;
        writeView(view, bag, key, value.slice());
        if (replicated) k.stateBags.fromClient(player, bag, key, value);
        return true;
      },
      keys: (bag) => [...(view.get(bag)?.keys() ?? [])],
      has: (bag) => view.has(bag) || bag === 'global' || bag === `player:${player.id}`,
    },
    () => player.id,
  );
  // main.js: `if (!isDuplicityVersion) global.LocalPlayer = Player(-1)`.
  return { ...globals, LocalPlayer: (globals.Player as (ent: unknown) => unknown)(-1) };
}
