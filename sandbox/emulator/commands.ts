// Commands as FXServer dispatches them. Every rule here is checked against citizenfx/fivem
// (paths in FXSERVER-RULES.md beside this file):
// - a line is cut into arguments by the console tokenizer (tokenize.ts), and the handler's
//   third argument is the raw line as typed (the chat drops only the leading `/`);
// - a player's line runs the client's command of that name if one exists, else it goes to
//   the server as the raw line, where the server tokenizes it again;
// - one name is one slot per side: the first registration owns it (its resource is what
//   GetRegisteredCommands names, its `restricted` stands), the last registration's handler
//   runs, and the owner's stop removes the slot for everyone;
// - an unrestricted command grants `command.<name>` to everyone on its side.
import type { ScriptContext } from './context';
import type { Kernel } from './kernel';
import type { Player } from './player';
import { tokenize } from './tokenize';
import { FX } from './types';

type Handler = (...args: unknown[]) => unknown;

interface Slot {
  /** The name as its owner registered it; lookups ignore ASCII case. */
  name: string;
  resource: string;
  restricted: boolean;
}

/** One side's command table: the server's, or one player's client. */
export class CommandTable {
  private readonly slots = new Map<string, Slot>();
  /** FXServer's `outerRefs`: the latest handler per exact name (case-sensitive). */
  private readonly refs = new Map<string, { ctx: ScriptContext; handler: Handler }>();

  register(ctx: ScriptContext, name: string, handler: Handler, restricted: boolean): void {
    this.refs.set(name, { ctx, handler });
    const key = name.toLowerCase();
    if (!this.slots.has(key)) this.slots.set(key, { name, resource: ctx.resource, restricted });
  }

  /** The slot and the handler it calls now (null when that runtime has stopped). */
  find(name: string): { slot: Slot; ref: { ctx: ScriptContext; handler: Handler } | null } | null {
    const slot = this.slots.get(name.toLowerCase());
    if (!slot) return null;
    const ref = this.refs.get(slot.name);
    return { slot, ref: ref?.ctx.alive ? ref : null };
  }

  /** A stopping resource takes the slots it owns (and their ACEs) with it. */
  resourceStopped(resource: string): void {
    for (const [key, slot] of this.slots) if (slot.resource === resource) this.slots.delete(key);
  }

  /** `command.<name>` granted to everyone by an unrestricted registration. */
  everyoneMay(ace: string): boolean {
    const m = /^command\.(.+)$/i.exec(ace);
    const slot = m?.[1] ? this.slots.get(m[1].toLowerCase()) : undefined;
    return slot !== undefined && !slot.restricted;
  }

  /** What GetRegisteredCommands answers: script commands have arity -1. */
  list(): { name: string; resource: string; arity: number }[] {
    return [...this.slots.values()]
      .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
      .map((s) => ({ name: s.name, resource: s.resource, arity: -1 }));
  }
}

export class Commands {
  readonly server = new CommandTable();
  private readonly clients = new Map<number, CommandTable>();

  constructor(private readonly k: Kernel) {}

  client(player: Player): CommandTable {
    let table = this.clients.get(player.id);
    if (!table) {
      table = new CommandTable();
      this.clients.set(player.id, table);
    }
    return table;
  }

  register(ctx: ScriptContext, name: string, handler: Handler, restricted: boolean): void {
    const table = ctx.player ? this.client(ctx.player) : this.server;
    table.register(ctx, name, handler, restricted);
  }

  resourceStopped(resource: string): void {
    this.server.resourceStopped(resource);
    for (const table of this.clients.values()) table.resourceStopped(resource);
  }

  playerLeft(player: Player): void {
    this.clients.delete(player.id);
  }

  /** Whether the player's client has a live handler for `/name` right now. */
  clientHas(player: Player, name: string): boolean {
    return this.client(player).find(name)?.ref != null;
  }

  /** The chat box: `/cmd ...` runs `cmd ...` as a command, anything else is a message. */
  playerTyped(player: Player, text: string): void {
    if (!player.connected) return;
    if (text.startsWith('/')) {
      this.runPlayerCommand(player, text.slice(1));
      return;
    }
    this.k.events.emitServerLocal('chatMessage', [player.id, player.name, text], null, {
      source: player.id,
    });
    for (const p of this.k.connectedPlayers()) p.chat.push({ author: player.name, text });
  }

  /** The client's command if it has one; else the raw line goes to the server. */
  runPlayerCommand(player: Player, line: string): void {
    const [name] = tokenize(line);
    if (name === undefined) return;
    const found = this.client(player).find(name);
    if (!found) {
      this.runServerCommand(line, player.id);
      return;
    }
    // On a client only unrestricted registrations grant anything: a restricted client
    // command is refused to everyone.
    if (found.slot.restricted) return;
    const { ref } = found;
    if (!ref) return;
    const args = tokenize(line).slice(1);
    ref.ctx.invoke(`command ${name}`, () => ref.handler(0, ref.ctx.realm.Array.from(args), line));
  }

  /** Returns true when a command of that name exists on the server. */
  runServerCommand(line: string, src: number): boolean {
    const [name, ...args] = tokenize(line);
    if (name === undefined) return false;
    const found = this.server.find(name);
    if (!found) {
      if (src !== 0) this.fallback(line, src);
      else this.k.fxLog('info', `No such command ${name}.`);
      return false;
    }
    if (found.slot.restricted && !this.k.aceAllowed(src, `command.${name}`)) {
      this.k.fxLog('warn', `Access denied for command ${name}.`);
      return true;
    }
    const { ref } = found;
    // The slot outlived the resource whose handler it calls: FXServer runs nothing.
    if (!ref) return true;
    ref.ctx.invokeWithSource(`command ${name}`, src, () =>
      ref.handler(src, ref.ctx.realm.Array.from(args), line),
    );
    return true;
  }

  /**
   * A player's line that no command takes: FXServer raises `__cfx_internal:commandFallback`
   * with the raw line (ServerCommandPacketHandler.cpp); the stock chat's handler
   * (cfx-server-data chat/sv_chat.lua) shows it to everyone as a chat message `/line` from
   * that player and cancels; a canceled event prints nothing more.
   */
  private fallback(line: string, src: number): void {
    const player = this.k.player(src);
    const canceled = this.k.events.emitServerLocal('__cfx_internal:commandFallback', [line], null, {
      source: `internal-net:${src}`,
    });
    if (player) {
      for (const p of this.k.connectedPlayers())
        p.chat.push({ author: player.name, text: `/${line}` });
      return;
    }
    if (!canceled) this.k.fxLog('info', `No such command ${tokenize(line)[0] ?? ''}.`);
  }

  console(line: string): string[] {
    const start = this.k.logs.length;
    this.runServerCommand(line, 0);
    return this.k.logs
      .slice(start)
      .filter((e) => e.side === 'server' && e.resource !== FX)
      .map((e) => e.text);
  }
}
