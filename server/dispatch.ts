/**
 * The sending half: a Scheduler wired to the CAD transport, with what each outcome means for
 * the caller (a chat line), for other resources (a local event) and for staff (a log line
 * carrying the CAD's detail and trace ids).
 */
import type { DispatchCall } from '../shared/contract';
import { LocalEvents } from '../shared/events';
import { formatWait } from '../shared/locale';
import type { HttpAttempt, Problem } from '../shared/outcome';
import { type Job, Scheduler, type SchedulerOptions, type Timers } from '../shared/scheduler';
import type { Logger } from './log';
import type { Notifier } from './notify';
import type { World } from './world';

export interface CallMeta {
  /** Server id of the caller, or null for calls no player made. */
  player: number | null;
  callerName: string;
  command: string;
  /** Set once the caller heard their call is delayed, so they hear it once. */
  toldDelayed?: boolean;
}

export interface DispatchDeps {
  send(call: DispatchCall): Promise<HttpAttempt>;
  world: World;
  log: Logger;
  notifier: Notifier;
  emitLocal(event: string, ...args: unknown[]): void;
  now(): number;
  timers: Timers;
  random(): number;
}

export function describeProblem(problem: Problem): string {
  const parts = [
    problem.status !== undefined ? `HTTP ${problem.status}` : null,
    problem.detail ?? problem.title ?? null,
    problem.traceId ? `traceId=${problem.traceId}` : null,
    problem.requestId ? `x-kong-request-id=${problem.requestId}` : null,
  ];
  return parts.filter((p) => p !== null).join(', ');
}

export function createDispatch(deps: DispatchDeps, options: SchedulerOptions) {
  const { log, notifier, world } = deps;
  const present = (job: Job<CallMeta>): number | null =>
    job.meta.player !== null && world.playerExists(job.meta.player) ? job.meta.player : null;

  const scheduler: Scheduler<CallMeta> = new Scheduler<CallMeta>(
    {
      send: (call) => deps.send(call),
      now: deps.now,
      timers: deps.timers,
      random: deps.random,
      onSettled(job, outcome) {
        const player = present(job);
        if (outcome.type === 'sent') {
          const callId = outcome.callId ?? '?';
          log.info(
            `call ${job.id} (/${job.meta.command} from ${job.meta.callerName}) created as CAD call #${callId} after ${job.attempts} attempt(s)`,
          );
          if (player !== null) notifier.tell(player, 'created', { callId }, 'ok');
          deps.emitLocal(LocalEvents.callCreated, job.id, outcome.callId, job.call);
          return;
        }
        log.error(`CAD refused call ${job.id} for good: ${describeProblem(outcome.problem)}`);
        if (player !== null) notifier.tell(player, 'rejected', { reason: outcome.reason }, 'error');
        deps.emitLocal(LocalEvents.callFailed, job.id, outcome.reason);
      },
      onDelayed(job, outcome) {
        const why =
          outcome.type === 'retry' ? outcome.reason : `rate limited by the CAD (${outcome.hint})`;
        log.warn(`call ${job.id} not delivered yet (${why}); it stays queued`);
        const player = present(job);
        if (player === null) return;
        if (outcome.type === 'rate-limited') {
          // Another user of the same key spent the budget: the wait is known, say it.
          notifier.tell(player, 'busy', { wait: formatWait(outcome.waitMs, notifier.messages) });
        } else if (!job.meta.toldDelayed) {
          job.meta.toldDelayed = true;
          notifier.tell(player, 'delayed');
        }
      },
      onUnauthorized(job, outcome) {
        const player = present(job);
        if (player !== null) notifier.tell(player, 'unavailable', {}, 'error');
        log.error(
          `THE CAD REFUSED THE API KEY (${describeProblem(outcome.problem)}). Sending is paused and calls stay queued: check sonoran911_apiKey and api.serverId, then restart the resource.`,
        );
      },
    },
    options,
  );
  return scheduler;
}

export type Dispatch = ReturnType<typeof createDispatch>;
