/**
 * The queue's data structures (see scheduler.ts): one first-come FIFO per priority and kind,
 * and a binary heap. Adding a call or finding the next one costs a binary search or a heap
 * step, never a scan of the queue.
 */

import type { DispatchCall } from '../call/contract';
import type { Job, Payload } from './job';

/** A waiting or in-flight call and where it stands. */
export interface Entry<M, P extends Payload = DispatchCall> {
  job: Job<M, P>;
  /**
   * When its aging started: when it was accepted, or for a stalled call its last failure, so
   * aging never lifts a call that keeps failing above the healthy ones.
   */
  agedFrom: number;
  fifo: Fifo<M, P> | null;
  /** In the oldest-first heap (see `oldest`); at most once. */
  indexed: boolean;
}

/**
 * Calls of one priority and kind in first-come order (by seq). `agedFrom` is kept in the same
 * order, so the first call is the most aged and the calls aged past a time are a prefix.
 */
export class Fifo<M, P extends Payload = DispatchCall> {
  private items: Entry<M, P>[] = [];
  private head = 0;

  constructor(readonly bucket: Bucket<M, P>) {}

  get size(): number {
    return this.items.length - this.head;
  }

  first(): Entry<M, P> | undefined {
    return this.items[this.head];
  }

  insert(entry: Entry<M, P>): void {
    const seq = entry.job.seq;
    let i = this.items.length;
    if (i > this.head && this.items[i - 1]!.job.seq > seq) i = this.bound((e) => e.job.seq <= seq);
    const before = i > this.head ? this.items[i - 1] : undefined;
    const after = this.items[i];
    if (before) entry.agedFrom = Math.max(entry.agedFrom, before.agedFrom);
    if (after) entry.agedFrom = Math.min(entry.agedFrom, after.agedFrom);
    if (i === this.items.length) this.items.push(entry);
    else if (i === this.head && this.head > 0) this.items[--this.head] = entry;
    else this.items.splice(i, 0, entry);
  }

  remove(entry: Entry<M, P>): void {
    const seq = entry.job.seq;
    let i = this.bound((e) => e.job.seq < seq);
    while (i < this.items.length && this.items[i] !== entry) i++;
    if (i >= this.items.length) return;
    if (i === this.head) {
      this.items[this.head++] = undefined as unknown as Entry<M, P>;
      if (this.head > 1_024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
    } else this.items.splice(i, 1);
  }

  /** How many calls started aging at or before `t`. */
  agedBy(t: number): number {
    return this.bound((e) => e.agedFrom <= t) - this.head;
  }

  *[Symbol.iterator](): Generator<Entry<M, P>> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!;
  }

  /** The first index from head where `isBefore` turns false (it must hold for a prefix). */
  private bound(isBefore: (e: Entry<M, P>) => boolean): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (isBefore(this.items[mid]!)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export interface Bucket<M, P extends Payload = DispatchCall> {
  priority: number;
  /** Never failed (or not since it was re-queued by an operator). */
  ready: Fifo<M, P>;
  /** The last attempt failed: tried after the healthy ones when a probe is chosen. */
  stalled: Fifo<M, P>;
  /** Held back while its details arrive (notBefore in the future). */
  held: Fifo<M, P>;
  inFlight: number;
}

/** A binary min-heap. */
export class Heap<T> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** Keeps only the items `keep` accepts, in heap order again: O(n). */
  rebuild(keep: (item: T) => boolean): void {
    const kept = this.items.filter(keep);
    this.items.length = 0;
    for (const item of kept) this.push(item);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
      if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
    return top;
  }
}
