/**
 * What the delivery core keeps per call, and what the journal stores: shared by the queue,
 * the dead letters, the journal and the core, so none of them imports the others for a type.
 */
import type { DispatchCall } from '../call/contract';
import type { Problem } from './outcome';

/**
 * What a job sends: a dispatch call, or a note on one (the notes lane). The queue reads only
 * its priority.
 */
export interface Payload {
  priority: number;
}

export interface Job<M, P extends Payload = DispatchCall> {
  id: string;
  /**
   * The request body: the call on the create-call lane, the note on the notes lane. Named
   * `call` because that is what every saved record holds (the outbox's format).
   */
  call: P;
  /** Caller data the scheduler carries but never reads (who to tell, for instance). */
  meta: M;
  /** Wall-clock ms when the call was accepted. */
  enqueuedAt: number;
  /** Attempts that reached a verdict other than a 429 or a refused key. */
  attempts: number;
  /** Not before this time: a call held back while its details arrive (see `amend`). */
  notBefore: number;
  /** First come, first served within a priority; survives a restart. */
  seq: number;
  /** Why the last attempt failed, while the call is stalled; null otherwise. */
  lastError: string | null;
}

export interface DeadLetter<M, P extends Payload = DispatchCall> {
  job: Job<M, P>;
  reason: string;
  problem: Problem;
  at: number;
}
