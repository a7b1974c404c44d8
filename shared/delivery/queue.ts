/**
 * Ordering: which waiting call goes next. Calls wait in one FIFO per priority and kind
 * (healthy, stalled, held), each in first-come order. Aging moves a call up one step per
 * `agingMs`, and a FIFO's calls age in the order they stand, so its first call is its most
 * urgent: picking the next call compares a handful of FIFO heads, and a new call's place is a
 * binary search per FIFO. Neither grows with the queue. Time is passed in.
 */

import type { DispatchCall } from '../call/contract';
import { type Bucket, type Entry, Fifo, Heap } from './fifos';
import type { Job, Payload } from './job';

/** A waiting call as the queue holds it; `agedFrom` is clamped to `now`. */
export function newEntry<M, P extends Payload = DispatchCall>(
  job: Job<M, P>,
  agedFrom: number,
  now: number,
): Entry<M, P> {
  return { job, agedFrom: Math.min(agedFrom, now), fifo: null, indexed: false };
}

export class CallQueue<M, P extends Payload = DispatchCall> {
  /** One per priority in use, most urgent first. */
  private readonly buckets: Bucket<M, P>[] = [];
  /** Every waiting call (in a fifo) by id. */
  private readonly entries = new Map<string, Entry<M, P>>();
  /** Held calls by when they may go; entries that left the held fifo are skipped lazily. */
  private readonly held = new Heap<Entry<M, P>>((a, b) => a.job.notBefore < b.job.notBefore);
  /** Waiting calls by acceptance time, for `oldest`; left ones are skipped lazily. */
  private readonly oldestHeap = new Heap<Entry<M, P>>(
    (a, b) => a.job.enqueuedAt < b.job.enqueuedAt,
  );
  private stalledCount = 0;

  /** @param agingMs every this many ms of waiting raise a call's priority by one step */
  constructor(private readonly agingMs: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Waiting calls whose last attempt failed. */
  get stalled(): number {
    return this.stalledCount;
  }

  get(id: string): Entry<M, P> | undefined {
    return this.entries.get(id);
  }

  ids(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Waiting calls in no particular order. */
  all(): Entry<M, P>[] {
    return [...this.entries.values()];
  }

  /** Puts a waiting call in its fifo: held until `notBefore`, stalled if its last try failed. */
  enqueue(entry: Entry<M, P>, now: number): void {
    const b = this.bucket(entry.job.call.priority);
    const held = entry.job.notBefore > now;
    const fifo = held ? b.held : entry.job.lastError !== null ? b.stalled : b.ready;
    fifo.insert(entry);
    entry.fifo = fifo;
    if (held) {
      this.held.push(entry);
      // Released early (amend) calls stay in the heap until they reach its top: compact.
      if (this.held.size > 2 * this.entries.size + 64)
        this.held.rebuild((e) => e.fifo === e.fifo?.bucket.held);
    }
    if (fifo === b.stalled) this.stalledCount++;
    this.entries.set(entry.job.id, entry);
    if (!entry.indexed) {
      entry.indexed = true;
      this.oldestHeap.push(entry);
      // Calls that left are dropped from the heap lazily, when they reach its top; a call
      // stalled at the top would keep every later one in memory, so now and then compact.
      if (this.oldestHeap.size > 2 * this.entries.size + 64) {
        this.oldestHeap.rebuild((e) => {
          const keep = this.entries.get(e.job.id) === e;
          if (!keep) e.indexed = false;
          return keep;
        });
      }
    }
  }

  /** Takes a waiting call out of its fifo; a call in no fifo is left alone. */
  remove(entry: Entry<M, P>): void {
    const fifo = entry.fifo;
    if (!fifo) return;
    fifo.remove(entry);
    if (fifo === fifo.bucket.stalled) this.stalledCount--;
    entry.fifo = null;
    this.entries.delete(entry.job.id);
  }

  /**
   * The next call to send: the most urgent fifo head. With `healthyFirst` (after a failure the
   * next request is a probe) a call that has not failed wins if there is one, so one call the
   * CAD chokes on cannot hold up the rest.
   */
  next(now: number, healthyFirst: boolean): Entry<M, P> | null {
    let best: Entry<M, P> | null = null;
    const consider = (e: Entry<M, P> | undefined) => {
      if (e && (best === null || this.before(e, best, now))) best = e;
    };
    for (const b of this.buckets) consider(b.ready.first());
    if (best === null || !healthyFirst) {
      for (const b of this.buckets) consider(b.stalled.first());
    }
    return best;
  }

  /** The call leaves its fifo for the CAD; it still counts against its priority's room. */
  takeOff(entry: Entry<M, P>): void {
    this.remove(entry);
    this.bucket(entry.job.call.priority).inFlight++;
  }

  /** Its answer arrived: it no longer counts against its priority's room. */
  landed(entry: Entry<M, P>): void {
    this.bucket(entry.job.call.priority).inFlight--;
  }

  /** Every waiting call in the order it would be sent now (held ones where they stand). */
  waiting(now: number): Job<M, P>[] {
    return [...this.entries.values()]
      .sort((a, b) => (this.before(a, b, now) ? -1 : 1))
      .map((e) => e.job);
  }

  /** Waiting calls whose last attempt failed, the longest failing first. */
  stalledJobs(): Job<M, P>[] {
    const jobs: Job<M, P>[] = [];
    for (const b of this.buckets) for (const e of b.stalled) jobs.push(e.job);
    return jobs.sort((a, b) => b.attempts - a.attempts || a.enqueuedAt - b.enqueuedAt);
  }

  /** The waiting call accepted first. */
  oldest(): Entry<M, P> | undefined {
    for (;;) {
      const top = this.oldestHeap.peek();
      if (!top || this.entries.get(top.job.id) === top) return top;
      this.oldestHeap.pop();
      top.indexed = false;
    }
  }

  /** When the first held call is released, if any. */
  nextReleaseAt(): number | undefined {
    return this.nextHeld()?.job.notBefore;
  }

  /** Held calls whose time has come join their priority's healthy fifo. */
  releaseHeld(now: number): void {
    for (let e = this.nextHeld(); e && e.job.notBefore <= now; e = this.nextHeld()) {
      this.held.pop();
      this.remove(e);
      this.enqueue(e, now);
    }
  }

  /** Waiting and in-flight calls with this priority or a more urgent one. */
  atLeastAsUrgent(priority: number): { waiting: number; inFlight: number } {
    let waiting = 0;
    let inFlight = 0;
    for (const b of this.buckets) {
      if (b.priority > priority) break;
      waiting += b.ready.size + b.stalled.size + b.held.size;
      inFlight += b.inFlight;
    }
    return { waiting, inFlight };
  }

  /** Waiting calls that go before a call of `priority` accepted now. */
  countBefore(priority: number, now: number): number {
    let n = 0;
    for (const b of this.buckets) {
      const fifos = [b.ready, b.stalled, b.held];
      if (b.priority <= priority) {
        for (const fifo of fifos) n += fifo.size;
      } else {
        // A call of this bucket goes first once it aged (b.priority - priority) steps.
        const t = now - (b.priority - priority) * this.agingMs;
        for (const fifo of fifos) n += fifo.agedBy(t);
      }
    }
    return n;
  }

  /** Waiting calls not held back. */
  readyCount(): number {
    let n = 0;
    for (const b of this.buckets) n += b.ready.size + b.stalled.size;
    return n;
  }

  /** A call waits that is neither held nor failing: a candidate probe. */
  hasHealthyReady(): boolean {
    return this.buckets.some((b) => b.ready.size > 0);
  }

  /** When the next call that could go next (a ready or stalled head) gains a step of aging. */
  nextAgingAt(now: number): number | undefined {
    let at: number | undefined;
    for (const b of this.buckets) {
      for (const e of [b.ready.first(), b.stalled.first()]) {
        if (!e) continue;
        const steps = Math.floor(Math.max(0, now - e.agedFrom) / this.agingMs) + 1;
        const next = e.agedFrom + steps * this.agingMs;
        if (at === undefined || next < at) at = next;
      }
    }
    return at;
  }

  /** Lower effective priority first, aging included; first come within a priority. */
  private before(a: Entry<M, P>, b: Entry<M, P>, now: number): boolean {
    const pa = this.effectivePriority(a, now);
    const pb = this.effectivePriority(b, now);
    return pa !== pb ? pa < pb : a.job.seq < b.job.seq;
  }

  /** The call's priority now: one step more urgent for every `agingMs` it waited. */
  effectivePriority(entry: Entry<M, P>, now: number): number {
    const steps = Math.floor(Math.max(0, now - entry.agedFrom) / this.agingMs);
    return entry.job.call.priority - steps;
  }

  private bucket(priority: number): Bucket<M, P> {
    let i = 0;
    while (i < this.buckets.length && this.buckets[i]!.priority < priority) i++;
    const found = this.buckets[i];
    if (found?.priority === priority) return found;
    const bucket = { priority, inFlight: 0 } as Bucket<M, P>;
    bucket.ready = new Fifo(bucket);
    bucket.stalled = new Fifo(bucket);
    bucket.held = new Fifo(bucket);
    this.buckets.splice(i, 0, bucket);
    return bucket;
  }

  /** The held call released first, if any; entries no longer held are dropped on the way. */
  private nextHeld(): Entry<M, P> | undefined {
    for (;;) {
      const top = this.held.peek();
      if (!top || top.fifo === top.fifo?.bucket.held) return top;
      this.held.pop();
    }
  }
}
