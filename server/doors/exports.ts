/**
 * The API other resources call: createDispatchCall, report911, getQueueStatus. Each export
 * checks who calls and what they pass, turns it into one call request for the intake, and
 * answers at once with a plain object (promises do not cross runtimes reliably); the CAD's
 * verdict comes later through the optional callback and the local events. A runaway script
 * is held to a per-resource rate.
 */
import type { CallTemplate } from '../../shared/call/build';
import { cleanText } from '../../shared/call/text';
import type { CommandConfig, Config } from '../../shared/config/schema';
import type { SchedulerStatus } from '../../shared/delivery/scheduler';
import { FloodGuard } from '../../shared/guards/flood';
import {
  createCallInputSchema,
  describe,
  parseExportInput,
  playerIdSchema,
} from '../../shared/input/exports';
import type { SharedBudgetStatus } from '../budget/shared';
import type { Dispatch, ResultCallback } from '../dispatch';
import type { Intake } from '../intake';
import type { Caller } from '../invoker';
import type { Logger } from '../log';
import type { CallAnswer } from '../request';
import type { World } from '../world';

export interface QueueStatus extends Omit<SchedulerStatus, 'pause'> {
  paused: boolean;
  /** Epoch ms the pause ends; null when not paused or paused until an operator acts. */
  pausedUntil: number | null;
  pauseReason: string | null;
  /** Net payloads from clients that were dropped (malformed, flooding, unasked). */
  droppedPayloads: number;
  /** The notes lane: reports merged into calls the CAD already created. */
  notes: { queued: number; inFlight: number; usedInWindow: number; requestsPerWindow: number };
  /**
   * The budget shared with other servers on the key (sharedBudget), or null. `mode` is
   * 'shared' while Redis decides, 'settling' or 'local' while this server sends on its share,
   * 'fenced' while it waits for its lease to lapse, 'connecting' at start.
   */
  sharedBudget: Pick<SharedBudgetStatus, 'mode' | 'name' | 'servers' | 'live' | 'lanes'> | null;
}

export interface ExportDeps {
  world: World;
  config: Config;
  commands: readonly CommandConfig[];
  intake: Intake;
  dispatch: Pick<Dispatch, 'scheduler'>;
  notes: { scheduler: Pick<Dispatch['scheduler'], 'status'> };
  /** Net payloads dropped so far (NetDoors.dropped). */
  droppedPayloads(): number;
  log: Logger;
  now(): number;
  /** The budget shared with other servers (sharedBudget), or none. */
  shared?: () => SharedBudgetStatus;
}

export function createExports(deps: ExportDeps) {
  const { config, world, log } = deps;
  const perMinute = config.exportCallsPerMinute;
  const flood = new FloodGuard(perMinute, 60_000 / perMinute);

  /** Who may call, how often, and whether the callback is usable. */
  const gate = (caller: Caller, callback: unknown): string | null => {
    const resource = caller.name;
    if (config.exportAllowList !== null && !caller.known) {
      return 'the server cannot name the resource calling this export, so exportAllowList cannot let it through (on server builds 14427 to 27055: update FXServer to 27092 or newer)';
    }
    if (config.exportAllowList !== null && !config.exportAllowList.includes(resource)) {
      return `resource "${resource}" may not raise calls (it is not in exportAllowList)`;
    }
    if (callback !== undefined && callback !== null && typeof callback !== 'function') {
      return 'the callback must be a function (or left out)';
    }
    if (!flood.allow(resource, deps.now())) {
      return `resource "${resource}" raised more than ${perMinute} calls in a minute; this one was refused`;
    }
    return null;
  };

  const refuse = (resource: string, name: string, error: string): CallAnswer => {
    log.info(`${name} from resource ${resource} refused: ${error}`);
    return { ok: false, error };
  };
  const usable = (callback: unknown) =>
    typeof callback === 'function' ? (callback as ResultCallback) : undefined;

  return {
    createDispatchCall(caller: Caller, input: unknown, callback?: unknown): CallAnswer {
      const resource = caller.name;
      const refused = gate(caller, callback);
      if (refused) return refuse(resource, 'createDispatchCall', refused);
      const parsed = parseExportInput(createCallInputSchema, input);
      if (!parsed.ok) return refuse(resource, 'createDispatchCall', parsed.error);
      const value = parsed.value;
      if (value.playerId !== undefined && !world.playerExists(value.playerId)) {
        const error = `playerId ${value.playerId} is not connected`;
        return refuse(resource, 'createDispatchCall', error);
      }
      const d = config.exportDefaults;
      const template: CallTemplate = {
        title: cleanText(value.title, 100, false),
        code: value.code ?? d.code,
        priority: value.priority ?? d.priority,
        origin: value.origin ?? d.origin,
        status: value.status ?? d.status,
        attachCaller: d.attachCaller,
        communityUserIds: value.communityUserIds ?? d.communityUserIds,
        accounts: value.accounts ?? d.accounts,
        deleteAfterMinutes: value.deleteAfterMinutes ?? d.deleteAfterMinutes,
      };
      const answer = deps.intake.take({
        kind: 'script',
        resource,
        player: value.playerId ?? null,
        template,
        words: value.description ?? '',
        coords: value.coords ?? null,
        postal: value.postal,
        address: value.address,
        block: value.block,
        notes: value.notes,
        metaData: value.metaData,
        incidentKey: value.incidentKey,
        merge: value.merge,
        callback: usable(callback),
      });
      return answer.ok ? answer : refuse(resource, 'createDispatchCall', answer.error);
    },

    /** What the player typing the first configured command would do, minus the cooldown. */
    report911(
      caller: Caller,
      playerId: unknown,
      description: unknown,
      callback?: unknown,
    ): CallAnswer {
      const resource = caller.name;
      const refused = gate(caller, callback);
      if (refused) return refuse(resource, 'report911', refused);
      const id = playerIdSchema.safeParse(playerId);
      if (!id.success) {
        return refuse(
          resource,
          'report911',
          `playerId${playerId === undefined ? '' : ` = ${describe(playerId)}`} must be a player server id (a whole number, or its string from GetPlayers())`,
        );
      }
      if (typeof description !== 'string')
        return refuse(resource, 'report911', 'description must be text');
      const command = deps.commands.find((c) => c.name.toLowerCase() === '911') ?? deps.commands[0];
      if (!command) return refuse(resource, 'report911', 'no command is configured');
      if (!world.playerExists(id.data))
        return refuse(resource, 'report911', `player ${id.data} is not connected`);
      const answer = deps.intake.take({
        kind: 'report',
        player: id.data,
        command,
        words: description,
        claimed: null,
        typed: false,
        callback: usable(callback),
      });
      if (!answer.ok) return refuse(resource, 'report911', answer.error);
      log.info(`call ${answer.id}: report911 for player ${id.data} raised by resource ${resource}`);
      return answer;
    },

    getQueueStatus(): QueueStatus {
      const { pause, ...status } = deps.dispatch.scheduler.status();
      return {
        ...status,
        paused: pause !== null,
        pausedUntil: pause?.until ?? null,
        pauseReason: pause?.reason ?? null,
        droppedPayloads: deps.droppedPayloads(),
        notes: (({ queued, inFlight, usedInWindow, requestsPerWindow }) => ({
          queued,
          inFlight,
          usedInWindow,
          requestsPerWindow,
        }))(deps.notes.scheduler.status()),
        sharedBudget: deps.shared
          ? (({ mode, name, servers, live, lanes }) => ({
              mode,
              name,
              servers,
              live,
              lanes: lanes.map((l) => ({ ...l })),
            }))(deps.shared())
          : null,
      };
    },
  };
}
