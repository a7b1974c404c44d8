// Event routing between runtimes: local emits run synchronously in every runtime of the
// same side; net events arrive on a later turn, like packets. Either way the sender packs
// the arguments once with msgpack (main.js `emit`/`emitNet`: `pack(args)`) and each
// receiving runtime unpacks them for itself (setEventFunction: `unpack(payload) || []`,
// dropped unless an array), so every receiver gets its own copy in its own realm.
import { inspect } from 'node:util';
import { isByteRuntime } from './bridge';
import { CHAT_EVENTS, handleChatEvent } from './chat';
import type { ScriptContext } from './context';
import type { Kernel } from './kernel';
import type { Player } from './player';

/** What `source` holds on a client while a server→client event runs. */
const SERVER_NET_SOURCE = 65535;

export class Events {
  constructor(private readonly k: Kernel) {}

  /** Local server event: every server runtime's handlers, synchronously. */
  emitServerLocal(
    name: string,
    args: unknown[],
    from: ScriptContext | null,
    opts: { source?: unknown; invoker?: string | null } = {},
  ): boolean {
    // Packed once in the sender, so a bad payload throws there, as msgpack would.
    return this.emitServerLocalBytes(name, this.k.bridge.pack(args, from), from, opts);
  }

  /** CancelEvent() marks the event being handled; the emitter can read it after. */
  private readonly canceled: boolean[] = [];

  cancel(): void {
    if (this.canceled.length > 0) this.canceled[this.canceled.length - 1] = true;
  }

  wasCanceled(): boolean {
    return this.canceled.at(-1) ?? false;
  }

  /** A local server event whose arguments are packed already (e.g. by a Lua runtime). */
  emitServerLocalBytes(
    name: string,
    payload: Uint8Array,
    from: ScriptContext | null,
    opts: { source?: unknown; invoker?: string | null } = {},
  ): boolean {
    this.canceled.push(false);
    let canceled = false;
    try {
      this.deliverLocal(name, payload, from, opts);
    } finally {
      // TriggerEvent answers whether a handler called CancelEvent (ResourceEventManager).
      canceled = this.canceled.pop() ?? false;
    }
    return canceled;
  }

  private deliverLocal(
    name: string,
    payload: Uint8Array,
    from: ScriptContext | null,
    opts: { source?: unknown; invoker?: string | null },
  ): void {
    const invoker = from ? from.resource : (opts.invoker ?? null);
    // Local events carry an empty source in FiveM.
    const source = opts.source ?? '';
    for (const ctx of this.k.serverContexts()) {
      if (!ctx.hasHandlers(name)) continue;
      this.k.bridge.withInvoker(invoker, () => {
        if (isByteRuntime(ctx)) {
          const raw = typeof source === 'number' ? `internal-net:${source}` : String(source);
          ctx.dispatchBytes(name, payload, raw);
          return;
        }
        const copy = this.argsFor(ctx, payload);
        if (copy) ctx.dispatch(name, copy, source);
      });
    }
  }

  /** Local client event on one player: that player's client runtimes and the stock chat. */
  emitClientLocal(player: Player, name: string, args: unknown[], from: ScriptContext | null): void {
    if (!player.connected) return;
    const payload = this.k.bridge.pack(args, from);
    if (CHAT_EVENTS.has(name)) {
      handleChatEvent(player, name, this.k.bridge.unpack(payload, null) as unknown[]);
    }
    const invoker = from?.resource ?? null;
    for (const ctx of this.k.clientContexts(player)) {
      if (!ctx.hasHandlers(name)) continue;
      this.k.bridge.withInvoker(invoker, () => {
        const copy = this.argsFor(ctx, payload);
        if (copy) ctx.dispatch(name, copy, '');
      });
    }
  }

  /** Client → server over the network: later, only to onNet handlers, with `source` set. */
  sendToServer(player: Player, name: string, args: unknown[]): void {
    if (!player.connected) return;
    const payload = this.k.bridge.packNet(args);
    this.k.schedule(() => {
      if (!player.connected) return;
      for (const ctx of this.k.serverContexts()) {
        if (isByteRuntime(ctx)) {
          // scheduler.lua checks safeForNet itself and says "was not safe for net".
          if (ctx.hasHandlers(name)) {
            this.k.bridge.withInvoker(null, () =>
              ctx.dispatchBytes(name, payload, `net:${player.id}`),
            );
          }
          continue;
        }
        if (!this.acceptsNet(ctx, name)) continue;
        this.k.bridge.withInvoker(null, () => {
          const copy = this.argsFor(ctx, payload, true);
          if (copy) ctx.dispatch(name, copy, player.id);
        });
      }
    });
  }

  /** Server → client(s) over the network; target is a player id or -1 for everyone. */
  sendToClients(target: unknown, name: string, args: unknown[]): void {
    this.sendToClientsBytes(target, name, this.k.bridge.packNet(args));
  }

  /** Server → client(s) with arguments packed already (TriggerClientEvent from Lua). */
  sendToClientsBytes(target: unknown, name: string, payload: Uint8Array): void {
    const id = Number(target);
    if (!Number.isInteger(id)) {
      this.k.fxLog('warn', `emitNet(${name}): invalid target ${inspect(target)}, event dropped`);
      return;
    }
    this.k.schedule(() => {
      const p = this.k.player(id);
      const targets = id === -1 ? this.k.connectedPlayers() : p?.connected ? [p] : [];
      for (const player of targets) {
        const record = this.k.bridge.unpack(payload, null, { remote: true });
        const args = Array.isArray(record) ? record : [];
        player.received.push({ name, args });
        if (CHAT_EVENTS.has(name)) handleChatEvent(player, name, args);
        for (const ctx of this.k.clientContexts(player)) {
          if (!this.acceptsNet(ctx, name)) continue;
          this.k.bridge.withInvoker(null, () => {
            const copy = this.argsFor(ctx, payload, true);
            if (copy) ctx.dispatch(name, copy, SERVER_NET_SOURCE);
          });
        }
      }
    });
  }

  /** The payload unpacked for one runtime; null when it is not an argument list. */
  private argsFor(ctx: ScriptContext, payload: Uint8Array, remote = false): unknown[] | null {
    const args = this.k.bridge.unpack(payload, ctx, { remote }) ?? [];
    return Array.isArray(args) ? args : null;
  }

  private acceptsNet(ctx: ScriptContext, name: string): boolean {
    if (!ctx.hasHandlers(name)) return false;
    if (ctx.netSafe.has(name)) return true;
    this.k.log({
      resource: ctx.resource,
      side: ctx.side,
      ...(ctx.player ? { player: ctx.player.id } : {}),
      level: 'warn',
      text: `event ${name} was not safe for net`,
    });
    return false;
  }
}
