// Event routing between runtimes: local emits run synchronously in every runtime of the
// same side; net events go through msgpack and arrive on a later turn, like packets.
import { inspect } from 'node:util';
import { CHAT_EVENTS, handleChatEvent } from './chat';
import type { ScriptContext } from './context';
import { hostRealm, packCopy } from './copy';
import type { Fn, Kernel } from './kernel';
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
  ): void {
    // Serialize once in the sender so a bad payload throws there, as msgpack would.
    const snapshot = packCopy(args, hostRealm, (f) => f) as unknown[];
    const invoker = from ? from.resource : (opts.invoker ?? null);
    // Local events carry an empty source in FiveM.
    const source = opts.source ?? '';
    for (const ctx of this.k.serverContexts()) {
      if (!ctx.hasHandlers(name)) continue;
      const copy = this.copyInto(snapshot, ctx, from, invoker);
      this.k.bridge.withInvoker(invoker, () => ctx.dispatch(name, copy, source));
    }
  }

  /** Local client event on one player: that player's client runtimes and the stock chat. */
  emitClientLocal(player: Player, name: string, args: unknown[], from: ScriptContext | null): void {
    if (!player.connected) return;
    const snapshot = packCopy(args, hostRealm, (f) => f) as unknown[];
    if (CHAT_EVENTS.has(name)) {
      handleChatEvent(player, name, packCopy(snapshot, hostRealm) as unknown[]);
    }
    for (const ctx of this.k.clientContexts(player)) {
      if (!ctx.hasHandlers(name)) continue;
      const copy = this.copyInto(snapshot, ctx, from, from?.resource ?? null);
      this.k.bridge.withInvoker(from?.resource ?? null, () => ctx.dispatch(name, copy, ''));
    }
  }

  /** Client → server over the network: later, only to onNet handlers, with `source` set. */
  sendToServer(player: Player, name: string, args: unknown[]): void {
    if (!player.connected) return;
    const snapshot = packCopy(args, hostRealm) as unknown[];
    this.k.schedule(() => {
      if (!player.connected) return;
      for (const ctx of this.k.serverContexts()) {
        if (!this.acceptsNet(ctx, name)) continue;
        const copy = packCopy(snapshot, ctx.realm) as unknown[];
        this.k.bridge.withInvoker(null, () => ctx.dispatch(name, copy, player.id));
      }
    });
  }

  /** Server → client(s) over the network; target is a player id or -1 for everyone. */
  sendToClients(target: unknown, name: string, args: unknown[]): void {
    const id = Number(target);
    if (!Number.isInteger(id)) {
      this.k.fxLog('warn', `emitNet(${name}): invalid target ${inspect(target)}, event dropped`);
      return;
    }
    const snapshot = packCopy(args, hostRealm) as unknown[];
    this.k.schedule(() => {
      const p = this.k.player(id);
      const targets = id === -1 ? this.k.connectedPlayers() : p?.connected ? [p] : [];
      for (const player of targets) {
        const record = packCopy(snapshot, hostRealm) as unknown[];
        player.received.push({ name, args: record });
        if (CHAT_EVENTS.has(name)) handleChatEvent(player, name, record);
        for (const ctx of this.k.clientContexts(player)) {
          if (!this.acceptsNet(ctx, name)) continue;
          const copy = packCopy(snapshot, ctx.realm) as unknown[];
          this.k.bridge.withInvoker(null, () => ctx.dispatch(name, copy, SERVER_NET_SOURCE));
        }
      }
    });
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

  private copyInto(
    snapshot: unknown[],
    ctx: ScriptContext,
    owner: ScriptContext | null,
    ownerName: string | null,
  ): unknown[] {
    return packCopy(snapshot, ctx.realm, (f) =>
      this.k.bridge.funcRef(f as Fn, owner, ownerName, ctx),
    ) as unknown[];
  }
}
