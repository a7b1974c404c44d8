/**
 * `sonoran911 <status|queue|dead|retry|drop>` for operators: the server console, or players
 * with ACE `command.sonoran911`. One fact per line, short ids (the first 8 characters of a
 * call's id; any unique prefix is accepted).
 */
import type { Scheduler } from '../shared/scheduler';
import type { CallMeta } from './dispatch';
import { describeProblem } from './dispatch';

export interface ConsoleDeps {
  scheduler: Scheduler<CallMeta>;
  now(): number;
  /** Re-reads the API key convars; returns where the key now comes from. */
  refreshKey(): string;
}

const USAGE = 'usage: sonoran911 status | queue | dead | retry <id|all> | drop <id>';
const short = (id: string) => id.slice(0, 8);
const clock = (t: number) => `${new Date(t).toISOString().slice(11, 19)} UTC`;
const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

export function runConsole(deps: ConsoleDeps, args: readonly string[]): string[] {
  const { scheduler } = deps;
  const [verb = 'status', target] = args;
  switch (verb.toLowerCase()) {
    case 'status':
      return status(deps);
    case 'queue': {
      const jobs = scheduler.waiting();
      if (jobs.length === 0) return ['queue: empty'];
      const now = deps.now();
      return jobs.slice(0, 20).map((j, i) => {
        const stalled = j.lastError
          ? `, stalled after ${j.attempts} attempt(s): ${j.lastError}`
          : '';
        return `${i + 1}. ${short(j.id)} priority ${j.call.priority} ${j.meta.source} from ${j.meta.callerName}, waiting ${secs(now - j.enqueuedAt)}${stalled}`;
      });
    }
    case 'dead': {
      const letters = scheduler.deadLetters();
      if (letters.length === 0) return ['dead letters: none'];
      return letters.map(
        (d) =>
          `${short(d.job.id)} ${d.job.meta.source} from ${d.job.meta.callerName} at ${clock(d.at)}: ${describeProblem(d.problem)}`,
      );
    }
    case 'retry': {
      if (!target) return [USAGE];
      const keyFrom = deps.refreshKey();
      if (target.toLowerCase() === 'all') {
        const n = scheduler.retry('all');
        const pause = scheduler.status().pause;
        const state = pause ? `still paused: ${pause.reason}` : 'sending resumed';
        return [`retry: ${n} dead letter(s) re-queued, ${state} (API key from ${keyFrom})`];
      }
      const id = resolve(scheduler, target);
      if (typeof id !== 'string') return [id.error];
      const n = scheduler.retry(id);
      return [
        n > 0
          ? `retry: ${short(id)} re-queued`
          : `retry: ${short(id)} is not a dead letter (it is queued or in flight)`,
      ];
    }
    case 'drop': {
      if (!target) return [USAGE];
      const id = resolve(scheduler, target);
      if (typeof id !== 'string') return [id.error];
      const result = scheduler.drop(id);
      if (result === 'in-flight')
        return [`drop: ${short(id)} is being sent right now and cannot be recalled`];
      return [
        result === 'dropped' ? `drop: ${short(id)} removed for good` : `drop: no call ${short(id)}`,
      ];
    }
    default:
      return [USAGE];
  }
}

function status(deps: ConsoleDeps): string[] {
  const s = deps.scheduler.status();
  const now = deps.now();
  const lines = [
    `queue: ${s.queued} waiting (${s.stalled} stalled), ${s.inFlight} in flight` +
      (s.oldestWaitingMs !== null ? `, oldest waiting ${secs(s.oldestWaitingMs)}` : ''),
    `budget: ${s.usedInWindow} of ${s.requestsPerWindow} requests used in the rolling ${secs(s.windowMs)} window`,
    `next send: ${s.nextSendInMs === null ? (s.queued > 0 ? 'when paused sending resumes' : 'nothing waiting') : `in ${secs(s.nextSendInMs)}`}`,
  ];
  if (!s.pause) lines.push('paused: no');
  else if (s.pause.until === null)
    lines.push(`paused: until "sonoran911 retry all": ${s.pause.reason}`);
  else
    lines.push(
      `paused: until ${clock(s.pause.until)} (in ${secs(s.pause.until - now)}): ${s.pause.reason}`,
    );
  lines.push(
    `dead letters: ${s.deadLetters}${s.deadLetters > 0 ? ' (sonoran911 dead lists them)' : ''}`,
  );
  return lines;
}

function resolve(scheduler: Scheduler<CallMeta>, prefix: string): string | { error: string } {
  const matches = scheduler.find(prefix);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) return { error: `no call id starts with "${prefix}"` };
  return { error: `"${prefix}" matches ${matches.length} calls: give more characters` };
}
