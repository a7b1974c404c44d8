/**
 * Another resource registering one of our command names. FXServer keeps one slot per name:
 * the first registration owns it, the latest registration's handler runs, and the owner's
 * stop removes the command for both (citizenfx/fivem code/components/citizen-scripting-core/
 * src/ResourceScriptFunctions.cpp, REGISTER_COMMAND). So whichever resource "wins" today,
 * /911 can vanish or change hands on the next restart: the owner must hear of it.
 * The server sees its own command table; a client tells what it found in its own.
 */
import { z } from 'zod';
import type { Logger } from './log';

/**
 * Distinct conflicts reported at most, per side: what clients report is capped on its own,
 * so forged reports can neither fill the console nor hide what the server finds itself.
 */
const MAX_REPORTED = { server: 32, client: 8 };

const registeredSchema = z.array(
  z.looseObject({ name: z.string(), resource: z.string() }).catch({ name: '', resource: '' }),
);

const conflictPayloadSchema = z.object({
  command: z.string().min(1).max(32),
  // FXServer resource names: letters, digits and a few separators.
  resource: z.string().regex(/^[\w.\-[\]@]{1,64}$/),
});

export interface ConflictDeps {
  own: string;
  commandNames: readonly string[];
  /** GetRegisteredCommands() of the server. */
  registered(): unknown;
  /** GetResourceState: a client may only name a resource this server really has. */
  resourceState(resource: string): string;
  log: Logger;
}

export function createConflictWatch(deps: ConflictDeps) {
  const ours = new Map(deps.commandNames.map((n) => [n.toLowerCase(), n]));
  const warned = { server: new Set<string>(), client: new Set<string>() };

  const warn = (name: string, resource: string, side: 'server' | 'client', where: string) => {
    const key = `${name.toLowerCase()}|${resource}`;
    const seen = warned[side];
    if (seen.has(key) || seen.size >= MAX_REPORTED[side]) return;
    seen.add(key);
    deps.log.warn(
      `/${name} is also registered by resource "${resource}" ${where}: one command name is one slot, the last registration's handler runs and stopping the first removes the command for both. Rename ours (commands[].name in config.json) or remove it from "${resource}".`,
    );
  };

  return {
    /** At start and whenever another resource starts: the server's own command table. */
    checkServer(): void {
      let list: z.infer<typeof registeredSchema>;
      try {
        const parsed = registeredSchema.safeParse(deps.registered());
        if (!parsed.success) return;
        list = parsed.data;
      } catch {
        return;
      }
      for (const { name, resource } of list) {
        const mine = ours.get(name.toLowerCase());
        if (mine && resource !== deps.own) warn(mine, resource, 'server', 'on the server');
      }
    },
    /** A client found one of our names taken on its side. Untrusted: false when dropped. */
    fromClient(player: number, payload: unknown): boolean {
      const parsed = conflictPayloadSchema.safeParse(payload);
      if (!parsed.success) return false;
      const mine = ours.get(parsed.data.command.toLowerCase());
      if (!mine || parsed.data.resource === deps.own) return false;
      if (deps.resourceState(parsed.data.resource) === 'missing') return false;
      warn(
        mine,
        parsed.data.resource,
        'client',
        `on players' game clients (reported by player ${player})`,
      );
      return true;
    },
  };
}
