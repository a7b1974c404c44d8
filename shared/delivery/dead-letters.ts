/**
 * Dead letters: calls the CAD refused for good, kept for an operator to read, retry or drop.
 * At most `max` are kept; past it the oldest expire, from memory and the journal.
 */
import type { DeadLetter } from './job';
import type { JournalWriter } from './journal';

export const DEFAULT_MAX_DEAD_LETTERS = 200;

export class DeadLetters<M> {
  private readonly letters = new Map<string, DeadLetter<M>>();

  constructor(
    private readonly journal: JournalWriter<M>,
    private readonly max: number,
    /** Told which letters expired (already gone from the journal), for a console line. */
    private readonly onExpired?: (letters: DeadLetter<M>[]) => void,
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
  list(): DeadLetter<M>[] {
    return [...this.letters.values()].sort((a, b) => a.at - b.at);
  }

  /** A call refused now: kept and journaled (call `expire` once the caller was told). */
  add(letter: DeadLetter<M>): void {
    this.letters.set(letter.job.id, letter);
    this.journal.dead(letter);
  }

  /** One the journal kept across a restart (already in the journal). */
  restore(letter: DeadLetter<M>, now: number): void {
    // Written by a clock that was ahead: not newer than anything refused from now on.
    this.letters.set(letter.job.id, { ...letter, at: Math.min(letter.at, now) });
  }

  /** Takes letters out to re-queue them (`id`, or every one with 'all'); the journal keeps them
   * until the re-queued call is saved over them. */
  take(id: string | 'all'): DeadLetter<M>[] {
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
