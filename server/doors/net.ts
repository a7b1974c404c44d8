/**
 * The doors players knock on: `sonoran911:report` from a client, and one of our commands
 * typed by a player whose client does not have it. Each turns its input into one call
 * request for the intake; the rest of this file is the flood guard every client event shares.
 */

import type { CommandConfig } from '../../shared/config/schema';
import { FloodGuard } from '../../shared/guards/flood';
import { wordsAfterCommand } from '../../shared/input/command-line';
import { parseReport } from '../../shared/input/report';
import type { Intake } from '../intake';
import type { Locator } from '../locate';
import type { Notifier } from '../notify';
import type { World } from '../world';

/** Net events one player may send: a burst of 5, then one every 2 s; the rest is dropped unread. */
const FLOOD_BURST = 5;
const FLOOD_REFILL_MS = 2_000;

export interface NetDoorDeps {
  world: World;
  commands: readonly CommandConfig[];
  intake: Intake;
  locator: Locator;
  notifier: Notifier;
  now(): number;
}

export function createNetDoors(deps: NetDoorDeps) {
  const { world } = deps;
  const byName = new Map(deps.commands.map((c) => [c.name.toLowerCase(), c]));
  const flood = new FloodGuard(FLOOD_BURST, FLOOD_REFILL_MS);
  let dropped = 0;
  /** Any event a client sends: false when it sends too often to be read at all. */
  const allow = (player: number): boolean => {
    if (flood.allow(String(player), deps.now())) return true;
    dropped++;
    return false;
  };

  return {
    /** Net payloads from clients that were dropped (malformed, flooding, unasked). */
    dropped: (): number => dropped,
    allow,

    /** An event that was read and found to be junk. */
    drop(): void {
      dropped++;
    },

    /** `sonoran911:report` from a client: untrusted, rate-limited, validated. */
    fromNet(player: number, payload: unknown): void {
      if (!allow(player)) return;
      const parsed = parseReport(payload);
      const command = parsed ? byName.get(parsed.command.toLowerCase()) : undefined;
      if (!parsed || !command || !world.playerExists(player)) {
        // Malformed or for a command we never offered: a cheat or a stale client. Quietly dropped.
        dropped++;
        return;
      }
      // A client that reports no location at all is asked for one, as for report911.
      deps.intake.take({
        kind: 'report',
        player,
        command,
        words: parsed.description,
        claimed: parsed.location,
        typed: true,
      });
    },

    /**
     * A player typed one of our commands that their client does not have: FXServer sends the
     * raw line to the server, and, no server command matching, raises
     * `__cfx_internal:commandFallback` (ServerCommandPacketHandler.cpp). Their client lacks
     * it because their ACEs did not allow it when the command list was sent; if they allow
     * it now (a job went on duty), the report goes through and 'granted' says to send the
     * list again; if not, they hear why. null: not one of ours.
     */
    fromFallback(player: number, raw: string): 'granted' | 'refused' | null {
      const [word = ''] = raw.trim().split(/\s+/, 1);
      const command = byName.get(word.replace(/^\//, '').toLowerCase());
      if (!command) return null;
      if (!allow(player)) return 'refused';
      if (!world.playerExists(player)) {
        dropped++;
        return 'refused';
      }
      // Asked here too, before the line's state: it says whether the player's list is stale.
      if (command.ace !== null && !world.aceAllowed(player, command.ace)) {
        deps.notifier.tell(player, 'noPermission', { command: command.name }, 'error');
        return 'refused';
      }
      deps.intake.take({
        kind: 'report',
        player,
        command,
        words: wordsAfterCommand(command.name, raw, []),
        claimed: null,
        typed: true,
      });
      return 'granted';
    },

    /** A client's answer to a locate request. */
    located(player: number, payload: unknown): void {
      if (allow(player) && !deps.locator.answer(player, payload)) dropped++;
    },

    /** A player left: their flood bucket goes with them. */
    forget(player: number): void {
      flood.forget(String(player));
    },
  };
}

export type NetDoors = ReturnType<typeof createNetDoors>;
