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

/**
 * Names FXServer, the game client or widely used resources already take, and who. Not refused,
 * since a server may run none of those resources, but warned about at start: with one of them
 * installed, the two would take the command from each other. Short and certain on purpose;
 * what other resources really register is checked below.
 */
export const WELL_KNOWN_COMMANDS: Readonly<Record<string, string>> = {
  start: "FXServer's console",
  stop: "FXServer's console",
  restart: "FXServer's console",
  ensure: "FXServer's console",
  refresh: "FXServer's console",
  exec: "FXServer's console",
  quit: "FXServer's console and the game client's",
  connect: "the game client's console",
  disconnect: "the game client's console",
  bind: "the game client's console",
  say: 'the stock chat resource',
  me: 'roleplay chat scripts and QBCore',
  do: 'roleplay chat scripts',
  ooc: 'roleplay chat scripts and QBCore',
  tweet: 'phone and roleplay chat scripts',
  twt: 'phone and roleplay chat scripts',
  ad: 'phone and roleplay chat scripts',
  e: 'emote menus (dpemotes, rpemotes)',
  emote: 'emote menus (dpemotes, rpemotes)',
  emotes: 'emote menus (dpemotes, rpemotes)',
  walk: 'emote menus (dpemotes, rpemotes)',
  help: 'help and chat scripts',
  report: 'report and admin scripts',
  car: 'ESX and QBCore admin commands',
  dv: 'ESX and QBCore admin commands',
  tp: 'ESX and QBCore admin commands',
  tpm: 'ESX and QBCore admin commands',
  setjob: 'ESX and QBCore admin commands',
  revive: 'ambulance jobs (ESX, QBCore)',
  noclip: 'admin menus',
};

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

  let knownChecked = false;
  /** Once, at the first check: our names that are commonly taken elsewhere. */
  const checkKnown = () => {
    knownChecked = true;
    deps.commandNames.forEach((name, i) => {
      const lower = name.toLowerCase();
      // Own keys only: "constructor" is no command anyone registers.
      if (!Object.hasOwn(WELL_KNOWN_COMMANDS, lower)) return;
      const users = WELL_KNOWN_COMMANDS[lower];
      deps.log.warn(
        `config.json commands[${i}].name = "${name}": /${name} is also a command of ${users}. If this server runs one of them, the two take /${name} from each other at every restart: give ours a name of its own.`,
      );
    });
  };

  return {
    /** At start and whenever another resource starts: the server's own command table. */
    checkServer(): void {
      if (!knownChecked) checkKnown();
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
