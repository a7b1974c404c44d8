/**
 * What the delivery core keeps per call, and what the journal stores: shared by the queue,
 * the dead letters, the journal and the core, so none of them imports the others for a type.
 */
import type { DispatchCall } from '../call/contract';
import type { Problem } from './outcome';

export interface Job<M> {
  id: string;
  call: DispatchCall;
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

export interface DeadLetter<M> {
  job: Job<M>;
  reason: string;
  problem: Problem;
  at: number;
}
