/**
 * Dead letters: calls the CAD refused for good, kept for an operator to read, retry or drop.
 * At most `max` are kept; past it the oldest expire, from memory and the journal.
 */

import type { DispatchCall } from '../call/contract';
import type { DeadLetter, Payload } from './job';
import type { JournalWriter } from './journal';

export const DEFAULT_MAX_DEAD_LETTERS = 200;

export class DeadLetters<M, P extends Payload = DispatchCall> {
  private readonly letters = new Map<string, DeadLetter<M, P>>();

  constructor(
    private readonly journal: JournalWriter<M, P>,
    private readonly max: number,
    /** Told which letters expired (already gone from the journal), for a console line. */
    private readonly onExpired?: (letters: DeadLetter<M, P>[]) => void,
  ) {}

  get size(): number {
    return this.letters.size;
  }

  has(id: string): boolean {
    return this.letters.has(id);
  }

  ids(): IterableIterator<string> {
    return this.letters.keys();
  }

  /** Oldest first. */
  list(): DeadLetter<M, P>[] {
    return [...this.letters.values()].sort((a, b) => a.at - b.at);
  }

  /** A call refused now: kept and journaled (call `expire` once the caller was told). */
  add(letter: DeadLetter<M, P>): void {
    this.letters.set(letter.job.id, letter);
    this.journal.dead(letter);
  }

  /** One the journal kept across a restart (already in the journal). */
  restore(letter: DeadLetter<M, P>, now: number): void {
    // Written by a clock that was ahead: not newer than anything refused from now on.
    this.letters.set(letter.job.id, { ...letter, at: Math.min(letter.at, now) });
  }

  /** Takes letters out to re-queue them (`id`, or every one with 'all'); the journal keeps them
   * until the re-queued call is saved over them. */
  take(id: string | 'all'): DeadLetter<M, P>[] {
    const taken =
      id === 'all'
        ? [...this.letters.values()]
        : [this.letters.get(id)].filter((l) => l !== undefined);
    for (const { job } of taken) this.letters.delete(job.id);
    return taken;
  }

  /** Forgets a letter in memory; the caller removes it from the journal. */
  delete(id: string): void {
    this.letters.delete(id);
  }

  /** Keeps the newest `max`; the rest leave memory and the journal, oldest first. */
  expire(): void {
    if (this.letters.size <= this.max) return;
    const expired = this.list().slice(0, this.letters.size - this.max);
    for (const letter of expired) {
      this.letters.delete(letter.job.id);
      this.journal.remove(letter.job.id);
    }
    this.onExpired?.(expired);
  }
}
