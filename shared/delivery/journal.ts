/**
 * The journal: where calls are kept so that none is lost across a restart. The core writes
 * to it only through `JournalWriter`, so every write, and why it happens, is in this file.
 */

import type { DispatchCall } from '../call/contract';
import type { SavedPause } from './health';
import type { DeadLetter, Job, Payload } from './job';

export interface BudgetState {
  /** Release times of recent requests (see RollingLimiter.snapshot). */
  releases: number[];
  /** A pause with an end (a 429); a refused key is not saved: a restart tries the key again. */
  pause: SavedPause | null;
  /**
   * Wall clock minus the scheduler's clock when this was saved. A run's steady clock drifts
   * from the wall clock when the system clock is stepped; the next run starts on the wall
   * clock again and shifts saved times by this, so they keep their real age.
   */
  skew?: number;
}

/** Where calls are kept so that none is lost: every method must be durable when it returns. */
export interface Journal<M, P extends Payload = DispatchCall> {
  add(job: Job<M, P>): void;
  remove(id: string): void;
  dead(letter: DeadLetter<M, P>): void;
  budget(state: BudgetState): void;
}

export class JournalWriter<M, P extends Payload = DispatchCall> {
  constructor(private readonly journal: Journal<M, P>) {}

  /**
   * A call is accepted, changed (amended, renumbered, re-queued) or came back from an attempt:
   * saved (again) so its attempts, last error and what its caller was told survive a restart.
   * Durable before anyone is told; a throw here means nothing was accepted.
   */
  save(job: Job<M, P>): void {
    this.journal.add(job);
  }

  /** A call or dead letter leaves for good: created, dropped, or expired. */
  remove(id: string): void {
    this.journal.remove(id);
  }

  /** The CAD refused a call for good. */
  dead(letter: DeadLetter<M, P>): void {
    this.journal.dead(letter);
  }

  /**
   * The budget as a restart needs it: the releases, the CAD's own wait, and how far this run's
   * clock is from the wall clock (see BudgetState.skew).
   */
  budget(releases: number[], pause: SavedPause | null, now: number, wallNow: number): void {
    this.journal.budget({ releases, pause, skew: wallNow - now });
  }
}
