/**
 * The notes lane: reports merged into a call the CAD already created go out as notes on it,
 * through their own Scheduler with their own budget (Add Call Note: 60 per minute per key),
 * their own outbox records and the same never-lose rules as calls. A note the CAD refuses
 * (its call is gone, say) is sent as a call of its own instead.
 */
import { z } from 'zod';
import { type NoteRequest, noteRequestSchema } from '../shared/call/note';
import type { BudgetGate } from '../shared/delivery/gate';
import { type KeyValueStore, KvpSearchBusy, Outbox } from '../shared/delivery/outbox';
import type { HttpAttempt } from '../shared/delivery/outcome';
import {
  type Job,
  Scheduler,
  type SchedulerOptions,
  type Timers,
} from '../shared/delivery/scheduler';
import { callMetaSchema, describeProblem } from './dispatch';
import type { Logger } from './log';

/** Who the note is from, and which incident (the call's request id) it belongs to. */
export const noteMetaSchema = callMetaSchema.extend({ incident: z.string() });
export type NoteMeta = z.infer<typeof noteMetaSchema>;

export const NOTE_KEYS = {
  payload: noteRequestSchema,
  prefix: 'outbox:note:',
  budgetKey: 'outbox:note-budget',
};

/** What a note whose call has no number "answers": refused for good, so it becomes a call. */
const NO_NUMBER: HttpAttempt = {
  kind: 'response',
  status: 404,
  headers: { 'content-type': 'application/problem+json' },
  body: JSON.stringify({
    title: 'No call number',
    status: 404,
    detail: 'the call this note belongs to has no CAD number',
  }),
};

/** How soon a restore that found the KVP search busy tries again. */
const RESTORE_RETRY_MS = 5_000;

export interface NotesDeps {
  send(note: NoteRequest): Promise<HttpAttempt>;
  store: KeyValueStore;
  log: Logger;
  now(): number;
  wallNow?(): number;
  timers: Timers;
  random(): number;
  /**
   * The CAD refused the note for good: its reports go out as a call of their own. false when
   * that call could not be queued: the note then stays, as a dead letter of the notes lane.
   */
  fallback(job: Job<NoteMeta, NoteRequest>, reason: string): boolean;
  /** The notes lane of a budget shared with other servers (sharedBudget). */
  gate?: BudgetGate;
}

export function createNotes(deps: NotesDeps, options: SchedulerOptions) {
  const { log } = deps;
  const outbox = new Outbox<NoteMeta, NoteRequest>(deps.store, noteMetaSchema, NOTE_KEYS);
  let stopped = false;
  const scheduler: Scheduler<NoteMeta, NoteRequest> = new Scheduler<NoteMeta, NoteRequest>(
    {
      // A note whose call never got a number has nothing to go on: the CAD is not asked, and
      // it is sent as a call of its own (onSettled below).
      send: (note) => (note.callId === null ? Promise.resolve(NO_NUMBER) : deps.send(note)),
      now: deps.now,
      ...(deps.wallNow ? { wallNow: deps.wallNow } : {}),
      timers: deps.timers,
      random: deps.random,
      journal: outbox,
      ...(deps.gate ? { gate: deps.gate } : {}),
      onSettled(job, outcome) {
        if (outcome.type === 'sent') {
          log.info(
            `note ${job.id.slice(0, 8)} (${job.meta.source} from ${job.meta.callerName}) added to CAD call #${job.call.callId}`,
          );
          return;
        }
        log.warn(
          `CAD refused a note on call #${job.call.callId} (${describeProblem(outcome.problem)}): it is sent as a call of its own`,
        );
        // Not kept as a dead letter once the report lives on as a call; kept when it could not.
        if (deps.fallback(job, outcome.reason)) deps.timers.set(() => scheduler.drop(job.id), 0);
      },
      onDelayed(job, outcome) {
        const why =
          outcome.type === 'retry' ? outcome.reason : `rate limited by the CAD (${outcome.hint})`;
        log.warn(`note ${job.id.slice(0, 8)} not added yet (${why}); it stays queued`);
      },
      onUnauthorized(_job, outcome, first) {
        if (first)
          log.error(
            `the CAD refused the API key for notes (${describeProblem(outcome.problem)}); notes stay queued until "sonoran911 retry all"`,
          );
      },
    },
    options,
  );

  const api = {
    scheduler,
    enqueue(id: string, note: NoteRequest, meta: NoteMeta, holdMs = 0) {
      return scheduler.enqueue(id, note, meta, holdMs);
    },
    /**
     * The incident's call got its number (or never will: null): the note waiting for it is
     * released, to be added to it, or sent as a call of its own.
     */
    release(id: string, callId: number | string | null): void {
      const held = scheduler.peek(id);
      if (held && held.callId === null) scheduler.amend(id, { ...held, callId });
    },
    /**
     * Takes back the notes a previous run left; tries again while the KVP search is busy. A
     * note that was held for its call's number lost that call with the restart: `adopt` may
     * fold it into the call, still waiting (true: the note is then gone from here); otherwise
     * it goes as a call of its own.
     */
    restore(adopt: (job: Job<NoteMeta, NoteRequest>) => boolean = () => false): void {
      if (stopped) return;
      try {
        const restored = outbox.load();
        for (const line of restored.corrupt) log.warn(`outbox record set aside: ${line}`);
        restored.pending = restored.pending.filter((job) => {
          if (job.call.callId !== null || !adopt(job)) return true;
          outbox.remove(job.id);
          return false;
        });
        const taken = scheduler.restore(restored);
        if (taken.pending > 0)
          log.info(`outbox: ${taken.pending} note(s) from before the restart will be added`);
      } catch (error) {
        if (!(error instanceof KvpSearchBusy)) {
          // From a timer nobody awaits: say it rather than throw into FXServer.
          log.error(
            `the notes saved before the restart could not be read: ${(error as Error).message}`,
          );
          return;
        }
        deps.timers.set(() => api.restore(adopt), RESTORE_RETRY_MS);
      }
    },
    stop(): void {
      stopped = true;
      scheduler.stop();
    },
  };
  return api;
}

export type Notes = ReturnType<typeof createNotes>;
