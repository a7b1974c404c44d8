/**
 * A player's report -> a queued call, or a clear answer why not. The server decides
 * everything here: the command, the gate, the cooldown, the words, the position and the
 * postal. The client's report is trusted for nothing but the names of the place, and only
 * when it stands where the server sees the player.
 */
import {
  type BuildResult,
  buildCall,
  type LocationFormats,
  type Position,
  type Report,
} from '../shared/call';
import { wordsAfterCommand } from '../shared/command-line';
import type { CommandConfig, Config } from '../shared/config-schema';
import type { Cooldowns } from '../shared/cooldown';
import type { ClientLocation } from '../shared/events';
import { FloodGuard } from '../shared/flood';
import { mapIdentity, stableKey } from '../shared/identity';
import { formatWait, type Messages } from '../shared/locale';
import { parseReport } from '../shared/report-schema';
import { capLength, cleanText, cleanWords, tooLong } from '../shared/text';
import type { CallMeta, Dispatch } from './dispatch';
import type { Intake, IntakeApi, ResultCallback } from './intake';
import type { Locator } from './locate';
import type { Logger } from './log';
import type { Notifier } from './notify';
import type { Postals } from './postals';
import type { World } from './world';

/** Street names a client reports are used only within this distance of the server's view. */
export const MAX_NAME_DISTANCE_M = 100;
/** Below this the player is just told the call is on its way. */
const WAIT_WORTH_TELLING_MS = 5_000;
/** Net events one player may send: a burst of 5, then one every 2 s; the rest is dropped unread. */
const FLOOD_BURST = 5;
const FLOOD_REFILL_MS = 2_000;

export interface ReportDeps {
  world: World;
  config: Config;
  messages: Messages;
  /** Address and block templates with their fallbacks. */
  formats: LocationFormats;
  commands: readonly CommandConfig[];
  /** Why no call can be sent right now, or null when the line is open. */
  unavailable(): string | null;
  dispatch: Dispatch;
  intake: IntakeApi;
  locator: Locator;
  postals: Postals;
  notifier: Notifier;
  cooldowns: Cooldowns;
  log: Logger;
  now(): number;
  newId(): string;
}

export type ReportAnswer =
  | { ok: true; id: string; position: number }
  | { ok: false; error: string };

interface ReportOptions {
  /** Player commands have cooldowns; report911's caller decides its own. */
  cooldown: boolean;
  callback?: ResultCallback;
}

export function createReports(deps: ReportDeps) {
  const { world, notifier, log, config } = deps;
  const byName = new Map(deps.commands.map((c) => [c.name.toLowerCase(), c]));
  const flood = new FloodGuard(FLOOD_BURST, FLOOD_REFILL_MS);
  const stats = { dropped: 0 };
  const { formats } = deps;

  /** Names a client reported, if it stands where the server sees the player. */
  const trustedNames = (player: number, position: Position, claimed: ClientLocation | null) => {
    if (!claimed) return null;
    if (withinNameDistance(position, claimed)) return claimed;
    log.warn(
      `player ${player} reported street names from far away from where the server sees them; names ignored`,
    );
    return null;
  };

  const withNames = (report: Report, names: ClientLocation | null): Report =>
    names
      ? {
          ...report,
          heading: names.heading,
          names: { street: names.street, crossing: names.crossing, zone: names.zone },
        }
      : report;

  /** The path a report takes once its command and sender are known. */
  const report = (
    player: number,
    command: CommandConfig,
    text: string,
    claimed: ClientLocation | null,
    options: ReportOptions,
  ): ReportAnswer => {
    const refuse = (error: string, tell: () => void): ReportAnswer => {
      tell();
      return { ok: false, error };
    };
    if (command.ace !== null && !world.aceAllowed(player, command.ace)) {
      return refuse(`player ${player} lacks the ACE ${command.ace}`, () =>
        notifier.tell(player, 'noPermission', { command: command.name }, 'error'),
      );
    }
    const words = cleanWords(text);
    const description = capLength(words, config.report.maxLength);
    if (description === '') {
      return refuse('the description is empty', () =>
        notifier.tell(player, 'usage', { command: command.name }),
      );
    }

    const identifiers = world.identifiers(player);
    const playerKey = stableKey(identifiers, String(player));
    const cooldownKey = `${playerKey}|${command.name}`;
    const now = deps.now();
    const left = options.cooldown ? deps.cooldowns.remaining(cooldownKey, now) : 0;
    if (left > 0) {
      return refuse('the command is cooling down', () =>
        notifier.tell(
          player,
          'cooldown',
          { seconds: Math.ceil(left / 1000), command: command.name },
          'error',
        ),
      );
    }

    const serverView = world.position(player);
    if (!serverView)
      log.warn(`no server-side position for player ${player}: using the client's report`);
    const position: Position | null =
      serverView ?? (claimed ? { x: claimed.x, y: claimed.y, z: claimed.z } : null);
    // A call raised for a player (report911) asks the client for names, and for the place
    // itself when the server has no view of the ped; it waits for them briefly.
    const locate = claimed === null;
    const identity = mapIdentity(identifiers, config.identity);
    const realName = cleanText(world.playerName(player), 64, false) || `player ${player}`;
    const requestId = deps.newId();
    const draft: Report = {
      command,
      description,
      position,
      heading: null,
      names: {},
      postal: position ? deps.postals.nearest(position.x, position.y) : null,
      caller: {
        name: command.anonymous ? deps.messages.anonymousCaller : realName,
        playerId: player,
        communityUserId: identity?.communityUserId ?? null,
        anonymous: command.anonymous,
      },
      requestId,
    };
    const built = buildCall(
      position ? withNames(draft, trustedNames(player, position, claimed)) : draft,
      formats,
    );
    if (!built.ok) {
      // Config validation prevents this for command settings; what is left is a caller with
      // no identifier to attach and a command with no fixed target.
      log.warn(`call from ${realName} for /${command.name} not sent: ${built.error}`);
      return refuse(built.error, () => notifier.tell(player, 'noTarget', {}, 'error'));
    }

    const meta: CallMeta = { player, playerKey, callerName: realName, source: `/${command.name}` };
    const holdMs = locate ? deps.locator.timeoutMs : 0;
    const queued: Intake = deps.intake.submit(
      requestId,
      built.call,
      meta,
      holdMs,
      options.callback,
    );
    if (!queued.ok)
      return refuse(queued.error, () =>
        notifier.tell(
          player,
          queued.message,
          queued.waitMs !== undefined ? { wait: formatWait(queued.waitMs, deps.messages) } : {},
          'error',
        ),
      );

    if (locate) {
      deps.locator.request(player, (answer) => {
        let amended: BuildResult = built;
        if (position) {
          const names = answer ? trustedNames(player, position, answer) : null;
          if (names) amended = buildCall(withNames(draft, names), formats);
        } else if (answer) {
          // No server view (no OneSync, or a stale ped): the client's word is all there is,
          // as for a /911 typed by a player the server cannot see.
          const at = { x: answer.x, y: answer.y, z: answer.z };
          const placed = { ...draft, position: at, postal: deps.postals.nearest(at.x, at.y) };
          amended = buildCall(withNames(placed, answer), formats);
        }
        // Without an answer the held call is released as it is, without waiting out the hold.
        deps.dispatch.scheduler.amend(requestId, amended.ok ? amended.call : built.call);
      });
    }
    // The cooldown starts only for an accepted call: a refused one can be tried again.
    if (options.cooldown) deps.cooldowns.start(cooldownKey, now, command.cooldownSeconds * 1000);
    const anonymous = command.anonymous ? ' anonymously' : '';
    log.info(
      `call ${requestId}: /${command.name} from ${realName} (${identity?.identifier ?? 'no identifier'})${anonymous} queued`,
    );
    // Said before the rest, so the player reads why the call holds less than they typed.
    if (tooLong(words, config.report.maxLength)) {
      notifier.tell(player, 'cut', { max: config.report.maxLength });
    }
    if (queued.waitMs >= WAIT_WORTH_TELLING_MS) {
      notifier.tell(player, 'receivedWait', {
        place: queued.position + 1,
        wait: formatWait(queued.waitMs, deps.messages),
      });
    } else {
      notifier.tell(player, 'received');
    }
    return { ok: true, id: requestId, position: queued.position + 1 };
  };

  return {
    stats,
    /** `sonoran911:report` from a client: untrusted, rate-limited, validated. */
    fromNet(player: number, payload: unknown): void {
      if (!flood.allow(String(player), deps.now())) {
        stats.dropped++;
        return;
      }
      const parsed = parseReport(payload);
      const command = parsed ? byName.get(parsed.command.toLowerCase()) : undefined;
      if (!parsed || !command || !world.playerExists(player)) {
        // Malformed or for a command we never offered: a cheat or a stale client. Quietly dropped.
        stats.dropped++;
        return;
      }
      const down = deps.unavailable();
      if (down !== null) {
        notifier.tell(player, 'unavailable', {}, 'error');
        return;
      }
      // A client that reports no location at all is asked for one, as for report911.
      report(player, command, parsed.description, parsed.location, { cooldown: true });
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
      if (!flood.allow(String(player), deps.now()) || !world.playerExists(player)) {
        stats.dropped++;
        return 'refused';
      }
      if (command.ace !== null && !world.aceAllowed(player, command.ace)) {
        notifier.tell(player, 'noPermission', { command: command.name }, 'error');
        return 'refused';
      }
      if (deps.unavailable() !== null) {
        notifier.tell(player, 'unavailable', {}, 'error');
        return 'granted';
      }
      report(player, command, wordsAfterCommand(command.name, raw, []), null, { cooldown: true });
      return 'granted';
    },
    /** What the player typing the first configured command would do, minus the cooldown. */
    report911(player: number, description: string, callback?: ResultCallback): ReportAnswer {
      const command = byName.get('911') ?? deps.commands[0];
      if (!command) return { ok: false, error: 'no command is configured' };
      if (!world.playerExists(player))
        return { ok: false, error: `player ${player} is not connected` };
      const down = deps.unavailable();
      if (down !== null) {
        notifier.tell(player, 'unavailable', {}, 'error');
        return { ok: false, error: `the emergency line is unavailable: ${down}` };
      }
      return report(player, command, description, null, { cooldown: false, callback });
    },
    /** A client asks for the command list; false when it asks too often to answer. */
    hello(player: number): boolean {
      if (flood.allow(String(player), deps.now())) return true;
      stats.dropped++;
      return false;
    },
    /** A client's answer to a locate request. */
    located(player: number, payload: unknown): void {
      if (!flood.allow(String(player), deps.now()) || !deps.locator.answer(player, payload))
        stats.dropped++;
    },
    /** A player left: their flood bucket goes with them. */
    forget(player: number): void {
      flood.forget(String(player));
    },
  };
}

export type Reports = ReturnType<typeof createReports>;

/** Whether street names read at `b` may describe the place `a`. */
export function withinNameDistance(a: { x: number; y: number }, b: { x: number; y: number }) {
  return Math.hypot(a.x - b.x, a.y - b.y) <= MAX_NAME_DISTANCE_M;
}
