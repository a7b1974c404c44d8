/**
 * A player's report -> a queued call, or a clear answer why not. The server decides
 * everything here: the command, the gate, the cooldown, the words, the position and the
 * postal. The client's report is trusted for nothing but the names of the place, and only
 * when it stands where the server sees the player.
 */
import { buildCall, type Position } from '../shared/call';
import type { CommandConfig, Config } from '../shared/config-schema';
import type { Cooldowns } from '../shared/cooldown';
import { mapIdentity, stableKey } from '../shared/identity';
import { formatWait, type Messages } from '../shared/locale';
import { parseReport } from '../shared/report-schema';
import { cleanText } from '../shared/text';
import type { CallMeta, Dispatch } from './dispatch';
import type { Logger } from './log';
import type { Notifier } from './notify';
import type { Postals } from './postals';
import type { World } from './world';

/** Street names a client reports are used only within this distance of the server's view. */
export const MAX_NAME_DISTANCE_M = 100;
/** Below this the player is just told the call is on its way. */
const WAIT_WORTH_TELLING_MS = 5_000;

export interface ReportDeps {
  world: World;
  config: Config;
  messages: Messages;
  commands: readonly CommandConfig[];
  /** Why no call can be sent right now, or null when the line is open. */
  unavailable(): string | null;
  dispatch: Dispatch;
  postals: Postals;
  notifier: Notifier;
  cooldowns: Cooldowns;
  log: Logger;
  now(): number;
  newId(): string;
}

export function createReportHandler(deps: ReportDeps) {
  const { world, notifier, log, config } = deps;
  const byName = new Map(deps.commands.map((c) => [c.name.toLowerCase(), c]));
  const stats = { accepted: 0, dropped: 0 };

  const handle = (player: number, payload: unknown): void => {
    const report = parseReport(payload);
    const command = report ? byName.get(report.command.toLowerCase()) : undefined;
    if (!report || !command || !world.playerExists(player)) {
      // Malformed or for a command we never offered: a cheat or a stale client. Quietly dropped.
      stats.dropped++;
      return;
    }

    const down = deps.unavailable();
    if (down !== null) {
      notifier.tell(player, 'unavailable', {}, 'error');
      return;
    }
    if (command.ace !== null && !world.aceAllowed(player, command.ace)) {
      notifier.tell(player, 'noPermission', { command: command.name }, 'error');
      return;
    }
    const description = cleanText(report.description, config.report.maxLength);
    if (description === '') {
      notifier.tell(player, 'usage', { command: command.name });
      return;
    }

    const identifiers = world.identifiers(player);
    const cooldownKey = `${stableKey(identifiers, String(player))}|${command.name}`;
    const now = deps.now();
    const left = deps.cooldowns.remaining(cooldownKey, now);
    if (left > 0) {
      notifier.tell(
        player,
        'cooldown',
        { seconds: Math.ceil(left / 1000), command: command.name },
        'error',
      );
      return;
    }

    const serverView = world.position(player);
    const claimed = report.location;
    const position: Position | null =
      serverView ?? (claimed ? { x: claimed.x, y: claimed.y, z: claimed.z } : null);
    if (!position) {
      stats.dropped++;
      return;
    }
    const namesTrusted = claimed !== null && distance2d(position, claimed) <= MAX_NAME_DISTANCE_M;
    if (claimed && !namesTrusted) {
      log.warn(
        `player ${player} reported street names from far away from where the server sees them; names ignored`,
      );
    }
    if (!serverView)
      log.warn(`no server-side position for player ${player}: using the client's report`);

    const identity = mapIdentity(identifiers, config.identity);
    const callerName = world.playerName(player);
    const requestId = deps.newId();
    const built = buildCall(
      {
        command,
        description,
        position,
        heading: namesTrusted && claimed ? claimed.heading : null,
        names:
          namesTrusted && claimed
            ? { street: claimed.street, crossing: claimed.crossing, zone: claimed.zone }
            : {},
        postal: deps.postals.nearest(position.x, position.y),
        caller: {
          name: callerName,
          playerId: player,
          communityUserId: identity?.communityUserId ?? null,
        },
        requestId,
      },
      { ...config.location, unknownLocation: deps.messages.unknownLocation },
    );
    if (!built.ok) {
      // Config validation prevents this for command settings; what is left is a caller with
      // no identifier to attach and a command with no fixed target.
      log.warn(`call from ${callerName} for /${command.name} not sent: ${built.error}`);
      notifier.tell(player, 'noTarget', {}, 'error');
      return;
    }

    const meta: CallMeta = {
      player,
      playerKey: stableKey(identifiers, String(player)),
      callerName,
      source: `/${command.name}`,
    };
    let queued: ReturnType<Dispatch['scheduler']['enqueue']>;
    try {
      queued = deps.dispatch.scheduler.enqueue(requestId, built.call, meta);
    } catch (err) {
      // The outbox could not write the call: it was not accepted, so say so rather than lose it.
      log.error(
        `could not store call ${requestId} (${(err as Error).message}); the caller was told to try again`,
      );
      notifier.tell(player, 'unavailable', {}, 'error');
      return;
    }
    if (!queued.ok) {
      log.warn(`queue full: refused /${command.name} from ${callerName}`);
      notifier.tell(player, 'queueFull', {}, 'error');
      return;
    }
    // The cooldown starts only for an accepted call: a refused one can be tried again.
    deps.cooldowns.start(cooldownKey, now, command.cooldownSeconds * 1000);
    stats.accepted++;
    log.info(
      `call ${requestId}: /${command.name} from ${callerName} (${identity?.identifier ?? 'no identifier'}) queued`,
    );
    if (queued.waitMs >= WAIT_WORTH_TELLING_MS) {
      notifier.tell(player, 'receivedWait', {
        place: queued.position + 1,
        wait: formatWait(queued.waitMs, deps.messages),
      });
    } else {
      notifier.tell(player, 'received');
    }
  };

  return { handle, stats };
}

function distance2d(a: { x: number; y: number }, b: { x: number; y: number }): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}
