/**
 * The API other resources call: createDispatchCall, report911, getQueueStatus. Every export
 * answers at once with a plain object (promises do not cross runtimes reliably) and reports
 * the CAD's verdict later through an optional callback and the local events. Nothing the
 * CAD would refuse is queued, and a runaway script is held to a per-resource rate.
 */
import { checkCall, coord, type LocationFormats, renderLocation } from '../shared/call';
import type { Config } from '../shared/config-schema';
import type { DispatchCall } from '../shared/contract';
import type { ClientLocation } from '../shared/events';
import {
  type CreateCallInput,
  createCallInputSchema,
  describe,
  parseExportInput,
  playerIdSchema,
} from '../shared/export-schema';
import { FloodGuard } from '../shared/flood';
import { mapIdentity, stableKey } from '../shared/identity';
import type { SchedulerStatus } from '../shared/scheduler';
import { cleanText } from '../shared/text';
import type { CallMeta, CallResult, Dispatch } from './dispatch';
import type { IntakeApi } from './intake';
import type { Caller } from './invoker';
import type { Locator } from './locate';
import type { Logger } from './log';
import type { Postals } from './postals';
import { type ReportAnswer, type Reports, withinNameDistance } from './reports';
import type { World } from './world';

export type ExportAnswer =
  | { ok: true; id: string; position: number }
  | { ok: false; error: string };

export interface QueueStatus extends Omit<SchedulerStatus, 'pause'> {
  paused: boolean;
  /** Epoch ms the pause ends; null when not paused or paused until an operator acts. */
  pausedUntil: number | null;
  pauseReason: string | null;
  /** Net payloads from clients that were dropped (malformed, flooding, unasked). */
  droppedPayloads: number;
}

export interface ExportDeps {
  world: World;
  config: Config;
  /** Address and block templates with their fallbacks. */
  formats: LocationFormats;
  dispatch: Dispatch;
  intake: IntakeApi;
  reports: Reports;
  locator: Locator;
  postals: Postals;
  log: Logger;
  now(): number;
  newId(): string;
}

type Callback = (result: CallResult) => void;

export function createExports(deps: ExportDeps) {
  const { config, world, log } = deps;
  const perMinute = config.exportCallsPerMinute;
  const flood = new FloodGuard(perMinute, 60_000 / perMinute);
  const { formats } = deps;

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

  const build = (
    input: CreateCallInput,
    resource: string,
    requestId: string,
    names: ClientLocation | null,
  ) => {
    const d = config.exportDefaults;
    const player = input.playerId ?? null;
    const serverView = player !== null ? world.position(player) : null;
    // Without a server view of the player's ped (no OneSync, a stale ped), the client's
    // answer is the best place there is.
    const clientView = player !== null && names ? { x: names.x, y: names.y, z: names.z } : null;
    const position = input.coords ?? serverView ?? clientView;
    const postal = input.postal ?? (position ? deps.postals.nearest(position.x, position.y) : null);
    // The client's street names describe where the player stands: they name the call's
    // place only when that is where the call is (or the client's word is all there is).
    const trusted =
      names && position && (position === clientView || withinNameDistance(position, names))
        ? names
        : null;
    const location = renderLocation(formats, trusted ?? {}, postal);
    const identity =
      player !== null ? mapIdentity(world.identifiers(player), config.identity) : null;
    const callerId = d.attachCaller ? identity?.communityUserId : undefined;
    const communityUserIds = [
      ...new Set([
        ...(callerId ? [callerId] : []),
        ...(input.communityUserIds ?? d.communityUserIds),
      ]),
    ];
    const accounts = input.accounts ?? d.accounts;
    const deleteAfterMinutes = input.deleteAfterMinutes ?? d.deleteAfterMinutes;
    // The schema refuses the keys set here (RESERVED_META_KEYS), so nothing is overwritten.
    const metaData: Record<string, string> = { ...input.metaData };
    Object.assign(metaData, { source: 'sonoran-911', resource, requestId });
    if (position)
      Object.assign(metaData, { x: coord(position.x), y: coord(position.y), z: coord(position.z) });
    if (postal) metaData.postal = postal;
    if (player !== null) {
      metaData.callerName = cleanText(world.playerName(player), 64, false);
      metaData.callerPlayerId = String(player);
      if (identity) metaData.callerCommunityUserId = identity.communityUserId;
    }
    const call: DispatchCall = {
      origin: input.origin ?? d.origin,
      status: input.status ?? d.status,
      priority: input.priority ?? d.priority,
      block: input.block ?? location.block,
      address: input.address ?? location.address,
      postal: postal ?? '',
      title: cleanText(input.title, 100, false),
      code: input.code ?? d.code,
      description: cleanText(input.description ?? '', config.report.maxLength, false),
      notes: input.notes ?? [],
      ...(communityUserIds.length > 0 ? { communityUserIds } : {}),
      ...(accounts.length > 0 ? { accounts } : {}),
      metaData,
      ...(deleteAfterMinutes !== null ? { deleteAfterMinutes } : {}),
    };
    return { call: checkCall(call), player, position };
  };

  const api = {
    createDispatchCall(caller: Caller, input: unknown, callback?: unknown): ExportAnswer {
      const resource = caller.name;
      const refused = gate(caller, callback);
      if (refused) return refuse(resource, 'createDispatchCall', refused);
      const parsed = parseExportInput(createCallInputSchema, input);
      if (!parsed.ok) return refuse(resource, 'createDispatchCall', parsed.error);
      const value = parsed.value;
      if (value.playerId !== undefined && !world.playerExists(value.playerId)) {
        return refuse(
          resource,
          'createDispatchCall',
          `playerId ${value.playerId} is not connected`,
        );
      }
      const requestId = deps.newId();
      const { call, player, position } = build(value, resource, requestId, null);
      if (!call.ok) {
        return refuse(
          resource,
          'createDispatchCall',
          `${call.error} (pass playerId, communityUserIds or accounts, or set exportDefaults.communityUserIds)`,
        );
      }
      const meta: CallMeta = {
        player,
        playerKey: player !== null ? stableKey(world.identifiers(player), String(player)) : null,
        callerName: player !== null ? cleanText(world.playerName(player), 64, false) : resource,
        source: `export from ${resource}`,
      };
      // With a player and no address of its own, the client is asked for the street names;
      // with a player and no position at all, for the place too.
      const locate = player !== null && (position === null || value.address === undefined);
      const queued = deps.intake.submit(
        requestId,
        call.call,
        meta,
        locate ? deps.locator.timeoutMs : 0,
        typeof callback === 'function' ? (callback as Callback) : undefined,
      );
      if (!queued.ok) return refuse(resource, 'createDispatchCall', queued.error);
      if (locate && player !== null) {
        deps.locator.request(player, (names) => {
          const named = names ? build(value, resource, requestId, names).call : call;
          deps.dispatch.scheduler.amend(requestId, named.ok ? named.call : call.call);
        });
      }
      log.info(`call ${requestId}: "${call.call.title}" raised by resource ${resource} queued`);
      return { ok: true, id: requestId, position: queued.position + 1 };
    },

    report911(
      caller: Caller,
      playerId: unknown,
      description: unknown,
      callback?: unknown,
    ): ReportAnswer {
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
      const answer = deps.reports.report911(
        id.data,
        description,
        typeof callback === 'function' ? (callback as Callback) : undefined,
      );
      if (answer.ok)
        log.info(
          `call ${answer.id}: report911 for player ${id.data} raised by resource ${resource}`,
        );
      else log.info(`report911 from resource ${resource} refused: ${answer.error}`);
      return answer;
    },

    getQueueStatus(): QueueStatus {
      const { pause, ...status } = deps.dispatch.scheduler.status();
      return {
        ...status,
        paused: pause !== null,
        pausedUntil: pause?.until ?? null,
        pauseReason: pause?.reason ?? null,
        droppedPayloads: deps.reports.stats.dropped,
      };
    },
  };

  function refuse(resource: string, name: string, error: string): { ok: false; error: string } {
    log.info(`${name} from resource ${resource} refused: ${error}`);
    return { ok: false, error };
  }

  return api;
}
