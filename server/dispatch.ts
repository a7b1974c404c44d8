/**
 * The sending half: a Scheduler wired to the CAD transport and the KVP outbox, with what
 * each outcome means for the caller (a chat line), for other resources (a local event) and
 * for staff (a log line carrying the CAD's detail and trace ids).
 */
import { z } from 'zod';
import type { DispatchCall } from '../shared/call/contract';
import { stableKey } from '../shared/call/identity';
import { formatWait } from '../shared/config/locale';
import type { BudgetGate } from '../shared/delivery/gate';
import { type KeyValueStore, KvpSearchBusy, Outbox } from '../shared/delivery/outbox';
import { type HttpAttempt, type Problem, UNKNOWN_CALL_ID } from '../shared/delivery/outcome';
import {
  DEFAULT_MAX_DEAD_LETTERS,
  type Job,
  Scheduler,
  type SchedulerOptions,
  type Timers,
} from '../shared/delivery/scheduler';
import { LocalEvents } from '../shared/protocol';
import type { Logger } from './log';
import type { Notifier } from './notify';
import type { World } from './world';

/** What the resource remembers about a call's origin; persisted with the call. */
export const callMetaSchema = z.object({
  /** Server id of the caller, or null for calls no player made. */
  player: z.int().nullable(),
  /** The caller's license (see stableKey): after a restart, ids can belong to someone else. */
  playerKey: z.string().nullable(),
  callerName: z.string(),
  /** The command, or the resource that raised the call. */
  source: z.string(),
  /** Set once the caller heard their call is delayed, so they hear it once. */
  toldDelayed: z.boolean().optional(),
});
export type CallMeta = z.infer<typeof callMetaSchema>;

/** What a calling resource's callback receives once the CAD has answered for good. */
export type CallResult =
  | { ok: true; id: string; callId: number | string | null }
  | { ok: false; id: string; error: string };

/** A calling resource's callback; called once with the CAD's final answer. */
export type ResultCallback = (result: CallResult) => void;

/** Who else hears how calls end: responders in game, and staff through the webhook. */
export interface DispatchWatch {
  /** callId null: created, but its number was lost on the way. */
  created(id: string, callId: number | string | null): void;
  /** Refused for good or dropped: no number will come. */
  ended(id: string): void;
  deadLetter(id: string, source: string, detail: string): void;
  keyRefused(detail: string): void;
  outage(started: boolean, reason: string): void;
  /** An accepted call took the queue past half its length (once per crossing). */
  queueHalf(length: number, max: number): void;
}

export interface DispatchDeps {
  send(call: DispatchCall): Promise<HttpAttempt>;
  store: KeyValueStore;
  world: World;
  log: Logger;
  notifier: Notifier;
  emitLocal(event: string, ...args: unknown[]): void;
  now(): number;
  timers: Timers;
  random(): number;
  watch?: Partial<DispatchWatch>;
  /** The calls lane of a budget shared with other servers (sharedBudget). */
  gate?: BudgetGate;
}

/** How soon a restore that found every KVP search handle taken tries again; doubling. */
export const RESTORE_RETRY_MS = 3_000;
const RESTORE_RETRY_MAX_MS = 60_000;

export function describeProblem(problem: Problem): string {
  const parts = [
    problem.status !== undefined ? `HTTP ${problem.status}` : null,
    problem.detail ?? problem.title ?? null,
    problem.traceId ? `traceId=${problem.traceId}` : null,
    problem.requestId ? `x-kong-request-id=${problem.requestId}` : null,
  ];
  return parts.filter((p) => p !== null).join(', ');
}

/** The reason a caller, a callback and `sonoran911:callFailed` get for an operator's drop. */
export const DROPPED = 'dropped by an operator';

export function createDispatch(deps: DispatchDeps, options: SchedulerOptions) {
  const { log, notifier, world } = deps;
  /**
   * Whoever watches (responders, staff) hears after the caller and the calling resource, and
   * their failure is only logged: it must never hold up a call or the queue.
   */
  const watch = <K extends keyof DispatchWatch>(
    name: K,
    ...args: Parameters<DispatchWatch[K]>
  ): void => {
    const hook = deps.watch?.[name] as ((...a: Parameters<DispatchWatch[K]>) => void) | undefined;
    if (!hook) return;
    try {
      hook(...args);
    } catch (err) {
      log.warn(`${name} could not be passed on: ${(err as Error).message}`);
    }
  };
  const outbox = new Outbox(deps.store, callMetaSchema);
  // In memory only: a callback is a function of a running resource, so it cannot outlive a restart.
  // A call's own caller first, then scripts whose calls were folded into it (see `alsoTell`).
  const callbacks = new Map<string, ResultCallback[]>();

  /** Hands the CAD's final answer to whoever asked for it; their errors stay theirs. */
  const settle = (result: CallResult): void => {
    const waiting = callbacks.get(result.id);
    if (!waiting) return;
    callbacks.delete(result.id);
    for (const callback of waiting) {
      try {
        callback(result);
      } catch (err) {
        log.warn(`the callback for call ${result.id} threw: ${(err as Error).message}`);
      }
    }
  };

  /** The caller, if still here and still the same person. */
  const caller = (job: Job<CallMeta>): number | null => {
    const { player, playerKey } = job.meta;
    if (player === null || !world.playerExists(player)) return null;
    return stableKey(world.identifiers(player), String(player)) === playerKey ? player : null;
  };

  const scheduler: Scheduler<CallMeta> = new Scheduler<CallMeta>(
    {
      send: (call) => deps.send(call),
      now: deps.now,
      wallNow: () => Date.now(),
      timers: deps.timers,
      random: deps.random,
      journal: outbox,
      ...(deps.gate ? { gate: deps.gate } : {}),
      onSettled(job, outcome) {
        const player = caller(job);
        if (outcome.type === 'sent') {
          const callId = outcome.callId ?? UNKNOWN_CALL_ID;
          log.info(
            `call ${job.id} (${job.meta.source} from ${job.meta.callerName}) created as CAD call #${callId} after ${job.attempts} attempt(s)`,
          );
          // The CAD said "created" but its call number was lost or unreadable: say so plainly.
          if (player !== null && callId === UNKNOWN_CALL_ID)
            notifier.tell(player, 'createdNoNumber', {}, 'ok');
          else if (player !== null) notifier.tell(player, 'created', { callId }, 'ok');
          deps.emitLocal(LocalEvents.callCreated, job.id, outcome.callId, job.call);
          settle({ ok: true, id: job.id, callId: outcome.callId });
          watch('created', job.id, outcome.callId);
          return;
        }
        log.error(
          `CAD refused call ${job.id} for good, kept as a dead letter (sonoran911 retry ${job.id.slice(0, 8)} to send it again): ${describeProblem(outcome.problem)}`,
        );
        if (player !== null) notifier.tell(player, 'rejected', { reason: outcome.reason }, 'error');
        deps.emitLocal(LocalEvents.callFailed, job.id, outcome.reason);
        settle({ ok: false, id: job.id, error: outcome.reason });
        watch('ended', job.id);
        watch('deadLetter', job.id, job.meta.source, describeProblem(outcome.problem));
      },
      onOutage(started, reason) {
        watch('outage', started, reason);
      },
      onDeadExpired(letters) {
        log.warn(
          `${letters.length} oldest dead letter(s) expired and were removed for good (the newest ${options.maxDeadLetters ?? DEFAULT_MAX_DEAD_LETTERS} are kept)`,
        );
      },
      onDelayed(job, outcome) {
        const why =
          outcome.type === 'retry' ? outcome.reason : `rate limited by the CAD (${outcome.hint})`;
        log.warn(`call ${job.id} not delivered yet (${why}); it stays queued`);
        const player = caller(job);
        if (player === null) return;
        if (outcome.type === 'rate-limited') {
          // Another user of the same key spent the budget: the wait is known, say it.
          notifier.tell(player, 'busy', { wait: formatWait(outcome.waitMs, notifier.messages) });
        } else if (!job.meta.toldDelayed) {
          job.meta.toldDelayed = true;
          notifier.tell(player, 'delayed');
        }
      },
      onUnauthorized(job, outcome, first) {
        if (!first) {
          // A call that was in flight when the key was refused: its caller hears it too.
          const player = caller(job);
          if (player !== null) notifier.tell(player, 'unavailable', {}, 'error');
          return;
        }
        // Everyone waiting hears it once; their calls stay queued for when it is fixed.
        const players = new Set([job, ...scheduler.waiting()].map(caller));
        for (const player of players)
          if (player !== null) notifier.tell(player, 'unavailable', {}, 'error');
        watch('keyRefused', describeProblem(outcome.problem));
        log.error(
          `THE CAD REFUSED THE API KEY (${describeProblem(outcome.problem)}). Sending is paused and every call stays queued: fix sonoran911_apiKey (or api.serverId), then run "sonoran911 retry all".`,
        );
      },
    },
    options,
  );

  /** Whether the queue was past half when the last call was taken. */
  let pastHalf = false;
  let budgetRestored = false;
  let stopped = false;
  let restoreTimer: unknown = null;
  let restoreDelay = RESTORE_RETRY_MS;
  const api = {
    scheduler,
    /**
     * Queues a call (it may throw when the outbox cannot write it) and, once it is taken,
     * remembers who wants to hear its final answer.
     */
    enqueue(
      id: string,
      call: DispatchCall,
      meta: CallMeta,
      holdMs: number,
      callback?: ResultCallback,
    ): ReturnType<Scheduler<CallMeta>['enqueue']> {
      const queued = scheduler.enqueue(id, call, meta, holdMs);
      if (queued.ok && callback) callbacks.set(id, [callback]);
      if (queued.ok && deps.watch?.queueHalf) {
        const { queued: waiting, inFlight } = scheduler.status();
        const past = (waiting + inFlight) * 2 > options.maxQueue;
        if (past && !pastHalf) watch('queueHalf', waiting + inFlight, options.maxQueue);
        pastHalf = past;
      }
      return queued;
    },
    /** One more callback for a call still waiting: a script's call folded into it. */
    alsoTell(id: string, callback: ResultCallback): void {
      callbacks.set(id, [...(callbacks.get(id) ?? []), callback]);
    },
    /**
     * An operator removes a call for good. A waiting call had no final answer yet, so this
     * is it: whoever raised it hears it once, as they would a refusal by the CAD, and its
     * callback is released. A dead letter already had the CAD's refusal and goes quietly.
     */
    drop(id: string): ReturnType<Scheduler<CallMeta>['drop']> | 'dropped-waiting' {
      const job = scheduler.waiting().find((j) => j.id === id);
      const result = scheduler.drop(id);
      if (result !== 'dropped' || !job) return result;
      log.info(
        `call ${job.id} (${job.meta.source} from ${job.meta.callerName}) dropped by an operator`,
      );
      const player = caller(job);
      if (player !== null) notifier.tell(player, 'rejected', { reason: DROPPED }, 'error');
      deps.emitLocal(LocalEvents.callFailed, job.id, DROPPED);
      settle({ ok: false, id: job.id, error: DROPPED });
      watch('ended', job.id);
      return 'dropped-waiting';
    },
    /**
     * Takes back the calls a previous run left, and says what it found. When the KVP search
     * is busy it tries again every few seconds until it can read them.
     */
    restore(): void {
      restoreTimer = null;
      let restored: ReturnType<typeof outbox.load>;
      try {
        restored = outbox.load();
      } catch (error) {
        if (!(error instanceof KvpSearchBusy)) throw error;
        // The saved calls stay where they are; only listing them failed. The budget is a
        // plain read, so what the last run sent still counts against the window meanwhile.
        if (!budgetRestored) {
          budgetRestored = true;
          log.warn(
            `the calls saved before the restart could not be read yet: ${error.message}, other resources hold every KVP search. New calls are taken meanwhile; trying again in ${restoreDelay / 1000} s, then less and less often`,
          );
          scheduler.restore({ pending: [], dead: [], budget: outbox.loadBudget() });
        }
        if (!stopped) restoreTimer = deps.timers.set(() => api.restore(), restoreDelay);
        restoreDelay = Math.min(restoreDelay * 2, RESTORE_RETRY_MAX_MS);
        return;
      }
      if (budgetRestored) restored.budget = null;
      for (const line of restored.corrupt) log.warn(`outbox record set aside: ${line}`);
      const taken = scheduler.restore(restored);
      if (taken.pending > 0 || taken.dead > 0) {
        log.info(
          `outbox: ${taken.pending} call(s) from before the restart will be sent, ${taken.dead} dead letter(s) kept`,
        );
      } else if (budgetRestored) {
        log.info('outbox: the calls saved before the restart were read: none was waiting');
      }
    },
    /** The resource stops: nothing more is sent and no restore is tried again. */
    stop(): void {
      stopped = true;
      if (restoreTimer !== null) deps.timers.clear(restoreTimer);
      restoreTimer = null;
      scheduler.stop();
    },
  };
  return api;
}

export type Dispatch = ReturnType<typeof createDispatch>;
