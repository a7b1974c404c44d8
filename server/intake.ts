/**
 * The one door every call goes through, whoever raised it (a player's command, report911,
 * createDispatchCall): is the line open, is there room, store it durably, remember who wants
 * to hear back. Callers get a typed answer, never an exception.
 */
import type { DispatchCall } from '../shared/contract';
import type { MessageKey } from '../shared/locale';
import type { CallMeta, CallResult, Dispatch } from './dispatch';
import type { Logger } from './log';

export type ResultCallback = (result: CallResult) => void;

export type Intake =
  | { ok: true; id: string; position: number; waitMs: number }
  /** `waitMs`: when there is room again, for the player's line (message `queueFull`). */
  | { ok: false; error: string; message: MessageKey; waitMs?: number };

export interface IntakeDeps {
  dispatch: Dispatch;
  /** Why no call can be sent right now, or null when the line is open. */
  unavailable(): string | null;
  log: Logger;
}

export function createIntake(deps: IntakeDeps) {
  const callbacks = new Map<string, ResultCallback>();
  const { log } = deps;

  return {
    submit(
      id: string,
      call: DispatchCall,
      meta: CallMeta,
      holdMs = 0,
      callback?: ResultCallback,
    ): Intake {
      const down = deps.unavailable();
      if (down !== null)
        return {
          ok: false,
          error: `the emergency line is unavailable: ${down}`,
          message: 'unavailable',
        };
      let queued: ReturnType<Dispatch['scheduler']['enqueue']>;
      try {
        queued = deps.dispatch.scheduler.enqueue(id, call, meta, holdMs);
      } catch (err) {
        // The outbox could not write the call: it was not accepted, so say so rather than lose it.
        log.error(`could not store call ${id} (${(err as Error).message}); refused`);
        return {
          ok: false,
          error: 'the call could not be stored; try again',
          message: 'unavailable',
        };
      }
      if (!queued.ok) {
        // The real wait, not "a minute": a backlog can take hours to drain.
        const minutes = Math.max(1, Math.ceil(queued.waitMs / 60_000));
        log.warn(
          `queue full: refused a call from ${meta.source} (room again in about ${minutes} min)`,
        );
        return {
          ok: false,
          error: `the queue is full; try again in about ${minutes} min`,
          message: 'queueFull',
          waitMs: queued.waitMs,
        };
      }
      if (callback) callbacks.set(id, callback);
      return { ok: true, id, position: queued.position, waitMs: queued.waitMs };
    },

    /** Hands the CAD's final answer to whoever asked for it; their errors stay theirs. */
    settled(result: CallResult): void {
      const callback = callbacks.get(result.id);
      if (!callback) return;
      callbacks.delete(result.id);
      try {
        callback(result);
      } catch (err) {
        log.warn(`the callback for call ${result.id} threw: ${(err as Error).message}`);
      }
    },
  };
}

export type IntakeApi = ReturnType<typeof createIntake>;
