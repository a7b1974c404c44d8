/**
 * `sonoran911 <status|queue|dead|retry|drop>` for operators: the server console, or players
 * with ACE `command.sonoran911`. One fact per line, short ids (the first 8 characters of a
 * call's id; any unique prefix is accepted).
 */
import type { Scheduler } from '../shared/delivery/scheduler';
import type { SharedBudgetStatus } from './budget/shared';
import type { CallMeta, Dispatch } from './dispatch';
import { describeProblem } from './dispatch';

export interface ConsoleDeps {
  scheduler: Scheduler<CallMeta>;
  /** The notes lane (reports merged into created calls), shown beside the calls; optional. */
  notes?: Pick<Scheduler<unknown, { priority: number }>, 'status' | 'retry'>;
  now(): number;
  /** Removes a call for good, telling whoever raised a waiting one (Dispatch.drop). */
  drop: Dispatch['drop'];
  /** Re-reads the API key and server id convars; says what is now in use. */
  refreshKey(): RefreshedSettings;
  /** The budget shared with other servers through Redis, when sharedBudget is set. */
  shared?: () => SharedBudgetStatus;
}

export interface RefreshedSettings {
  /** Where the key in use comes from, e.g. "convar sonoran911_apiKey". */
  apiKeyFrom: string;
  /** The CAD server id calls now go to, and where it comes from. */
  serverId: number;
  serverIdFrom: string;
  /** A convar that could not be used, said without its secret; the old value stays. */
  problems: string[];
}

const USAGE = 'usage: sonoran911 status | queue [page] | dead [page] | retry <id|all> | drop <id>';
/** Lines per listing: a chat window or a console screen, not thousands of lines. */
const PAGE = 20;
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
      const pages = Math.ceil(jobs.length / PAGE);
      const n = pageNumber(target, pages);
      if (n === null)
        return [
          `queue: no page ${target}; there ${pages === 1 ? 'is 1 page' : `are ${pages} pages`}`,
        ];
      const lines = jobs.slice((n - 1) * PAGE, n * PAGE).map((j, i) => {
        const stalled = j.lastError
          ? `, stalled after ${j.attempts} attempt(s): ${j.lastError} (calls that have not failed go first)`
          : '';
        return `${(n - 1) * PAGE + i + 1}. ${short(j.id)} priority ${j.call.priority} ${j.meta.source} from ${j.meta.callerName}, waiting ${secs(Math.max(0, now - j.enqueuedAt))}${stalled}`;
      });
      if (pages > 1) {
        const more = n < pages ? `; sonoran911 queue ${n + 1} for the next` : '';
        lines.unshift(
          `queue: page ${n} of ${pages} (${jobs.length} waiting, in send order${more})`,
        );
      }
      return lines;
    }
    case 'dead':
      return dead(scheduler, target);
    case 'retry': {
      if (!target) return [USAGE];
      const settings = deps.refreshKey();
      const to = `calls go to CAD server ${settings.serverId} (from ${settings.serverIdFrom})`;
      const problems = settings.problems.map((p) => `retry: ${p}`);
      if (target.toLowerCase() === 'all') {
        const n = scheduler.retry('all');
        // The notes lane resumes too (a refused key pauses both), and its kept notes go again.
        const notes = deps.notes?.retry('all') ?? 0;
        const pause = scheduler.status().pause;
        const state = pause ? `still paused: ${pause.reason}` : 'sending resumed';
        return [
          `retry: ${n} dead letter(s) re-queued${notes > 0 ? ` and ${notes} note(s)` : ''}, ${state} (API key from ${settings.apiKeyFrom}); ${to}`,
          ...problems,
        ];
      }
      const id = resolve(scheduler, target);
      if (typeof id !== 'string') return [id.error, ...problems];
      const n = scheduler.retry(id);
      return [
        n > 0
          ? `retry: ${short(id)} re-queued; ${to}`
          : `retry: ${short(id)} is not a dead letter (it is queued or in flight)`,
        ...problems,
      ];
    }
    case 'drop': {
      if (!target) return [USAGE];
      const id = resolve(scheduler, target);
      if (typeof id !== 'string') return [id.error];
      // A waiting call's origin hears of the drop (see Dispatch.drop); a dead letter's
      // already heard the CAD's refusal.
      const result = deps.drop(id);
      if (result === 'in-flight')
        return [`drop: ${short(id)} is being sent right now and cannot be recalled`];
      if (result === 'dropped-waiting')
        return [`drop: ${short(id)} removed for good; whoever raised it was told`];
      if (result === 'dropped') return [`drop: dead letter ${short(id)} removed for good`];
      return [`drop: no call ${short(id)}`];
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
    ...stalledLines(deps.scheduler),
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
  if (deps.notes) {
    const n = deps.notes.status();
    lines.push(
      `notes: ${n.queued} waiting, ${n.inFlight} in flight; ${n.usedInWindow} of ${n.requestsPerWindow} note requests used in the rolling ${secs(n.windowMs)} window${n.pause ? `; paused: ${n.pause.reason}` : ''}`,
    );
  }
  if (deps.shared) lines.push(sharedLine(deps.shared(), now));
  return lines;
}

/** Where the budget stands among the servers on the key, and what this one may send. */
export function sharedLine(s: SharedBudgetStatus, now: number): string {
  const who = `shared budget: "${s.name}"`;
  const shares = s.lanes.map((l) => `${l.ownLimit} ${l.name}`).join(', ');
  const servers = `${s.splitBetween} servers last seen`;
  switch (s.mode) {
    case 'shared': {
      const used = s.lanes.map((l) => `${l.name} ${l.usedShared ?? '?'} of ${l.shared}`).join(', ');
      return `${who} on Redis with ${s.servers} server${s.servers === 1 ? '' : 's'} (${s.live} live); used across them at the last heartbeat: ${used}`;
    }
    case 'settling':
      return `${who} on Redis, which held no budget (new or restarted): on its share (${shares} a window, ${servers}) until ${clock(s.settledAt ?? now)}, then the shared budget`;
    case 'fenced':
      return `${who}: Redis cannot be reached; nothing is sent until ${clock(s.fencedUntil ?? now)} (in ${secs(Math.max(0, (s.fencedUntil ?? now) - now))}), when this server's lease has lapsed for the others, then its share; calls are kept`;
    case 'local':
      return `${who}: Redis cannot be reached since ${clock(s.since)}: sending on its share (${shares} a window, ${servers}); calls are kept`;
    default:
      return `${who}: connecting to Redis`;
  }
}

/** The calls that keep failing, by name, so an operator can see what to drop. */
function stalledLines(scheduler: Scheduler<CallMeta>): string[] {
  const stalled = scheduler.stalledCalls();
  const shown = 3;
  const lines = stalled
    .slice(0, shown)
    .map(
      (j) =>
        `stalled: ${short(j.id)} (${j.meta.source} from ${j.meta.callerName}) failed ${j.attempts} attempt(s), last: ${j.lastError}; calls that have not failed go first (sonoran911 drop ${short(j.id)} removes it)`,
    );
  if (stalled.length > shown)
    lines.push(`stalled: ${stalled.length - shown} more (sonoran911 queue [page] lists them)`);
  return lines;
}

/** Dead letters newest first, one page at a time. */
function dead(scheduler: Scheduler<CallMeta>, page: string | undefined): string[] {
  const letters = scheduler.deadLetters().reverse();
  if (letters.length === 0) return ['dead letters: none'];
  const pages = Math.ceil(letters.length / PAGE);
  const n = pageNumber(page, pages);
  if (n === null)
    return [`dead: no page ${page}; there ${pages === 1 ? 'is 1 page' : `are ${pages} pages`}`];
  const lines = letters
    .slice((n - 1) * PAGE, n * PAGE)
    .map(
      (d) =>
        `${short(d.job.id)} ${d.job.meta.source} from ${d.job.meta.callerName} at ${clock(d.at)}: ${describeProblem(d.problem)}`,
    );
  // One page needs no header: the listing is all there is.
  if (pages === 1) return lines;
  const more = n < pages ? `; sonoran911 dead ${n + 1} for the next` : '';
  return [
    `dead letters: page ${n} of ${pages} (${letters.length} kept, newest first${more})`,
    ...lines,
  ];
}

function resolve(scheduler: Scheduler<CallMeta>, prefix: string): string | { error: string } {
  const matches = scheduler.find(prefix);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) return { error: `no call id starts with "${prefix}"` };
  return { error: `"${prefix}" matches ${matches.length} calls: give more characters` };
}

/** A 1-based page from an operator's argument (none: the first), or null when out of range. */
function pageNumber(arg: string | undefined, pages: number): number | null {
  const n = arg === undefined ? 1 : Number(arg);
  return Number.isInteger(n) && n >= 1 && n <= pages ? n : null;
}
