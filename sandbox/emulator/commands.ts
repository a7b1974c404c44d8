// Commands as FXServer dispatches them: a player's client runtimes first, then the server,
// where restricted commands need the ACE `command.<name>`.
import type { CommandEntry, ScriptContext } from './context';
import { packCopy } from './copy';
import type { Kernel } from './kernel';
import type { Player } from './player';
import { FX } from './types';

export class Commands {
  private seq = 0;

  constructor(private readonly k: Kernel) {}

  nextSeq(): number {
    return ++this.seq;
  }

  /** The chat box: `/cmd ...` runs a command, anything else is a chat message. */
  clientHas(player: Player, name: string): boolean {
    return findCommand(this.k.clientContexts(player), name.toLowerCase()) !== undefined;
  }

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

  /** Client commands win; unknown ones go to the server as the player. */
  runPlayerCommand(player: Player, line: string): void {
    const { name, args, raw } = parseCommand(line);
    if (!name) return;
    const local = findCommand(this.k.clientContexts(player), name);
    if (local) {
      const { ctx, cmd } = local;
      ctx.invoke(`command ${name}`, () => cmd.handler(0, packCopy(args, ctx.realm), raw));
      return;
    }
    this.runServerCommand(line, player.id);
  }

  /** Returns true when a command of that name exists on the server. */
  runServerCommand(line: string, src: number): boolean {
    const { name, args, raw } = parseCommand(line);
    if (!name) return false;
    const found = findCommand(this.k.serverContexts(), name);
    if (!found) {
      this.k.fxLog('info', `No such command ${name}.`);
      return false;
    }
    const { ctx, cmd } = found;
    if (cmd.restricted && !this.k.aceAllowed(src, `command.${name}`)) {
      this.k.fxLog('warn', `Access denied for command ${name}.`);
      return true;
    }
    ctx.invokeWithSource(`command ${name}`, src, () =>
      cmd.handler(src, packCopy(args, ctx.realm), raw),
    );
    return true;
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

function parseCommand(line: string): { name: string; args: string[]; raw: string } {
  const raw = line.trim();
  const [name = '', ...args] = raw.split(/\s+/).filter((s) => s !== '');
  return { name: name.toLowerCase(), args, raw };
}

function findCommand(contexts: ScriptContext[], name: string) {
  let best: { ctx: ScriptContext; cmd: CommandEntry } | undefined;
  for (const ctx of contexts) {
    const cmd = ctx.commands.get(name);
    if (cmd && (!best || cmd.seq > best.cmd.seq)) best = { ctx, cmd };
  }
  return best;
}
