import { describe, expect, it } from 'vitest';
import { MemoryReleaseStore, RollingLimiter } from '../../shared/delivery/limiter';

const W = 60_000;
const make = (requests = 3, marginMs = 500) =>
  new RollingLimiter({ requests, windowMs: W, marginMs });

describe('RollingLimiter', () => {
  it('allows `requests` slots, then frees one a window after its response plus the margin', () => {
    const l = make(3);
    for (const id of ['a', 'b', 'c']) {
      expect(l.canSend(0)).toBe(true);
      l.begin(id, 0);
    }
    expect(l.canSend(0)).toBe(false);
    // Unanswered requests hold their slots: only a response can free one.
    expect(l.nextFreeAt(10_000)).toBeNull();
    l.end('a', 200);
    l.end('b', 300);
    l.end('c', 400);
    expect(l.nextFreeAt(1_000)).toBe(200 + 500 + W);
    // The window edge: 1 ms early is too early; on time and 1 ms later are fine.
    expect(l.canSend(200 + 500 + W - 1)).toBe(false);
    expect(l.canSend(200 + 500 + W)).toBe(true);
    expect(l.canSend(200 + 500 + W + 1)).toBe(true);
    expect(l.used(200 + 500 + W + 1)).toBe(2);
    expect(l.canSend(400 + 500 + W + 1)).toBe(true);
    expect(l.used(400 + 500 + W + 1)).toBe(0);
  });

  it('counts a slow request from its response, not its send', () => {
    const l = make(1, 0);
    l.begin('slow', 0);
    l.end('slow', 14_000);
    // Sent at 0 but it may have reached the CAD at 13,999: the window runs from the response.
    expect(l.canSend(W)).toBe(false);
    expect(l.canSend(W + 14_000 - 1)).toBe(false);
    expect(l.canSend(W + 14_000)).toBe(true);
  });

  it('estimates the start of the k-th next request through several windows', () => {
    const l = make(2, 0);
    expect(l.estimateStartMs(0, 0, 100)).toBe(0);
    expect(l.estimateStartMs(1, 0, 100)).toBe(0);
    // Third request waits for the first slot: sent at 0, answered at 100.
    expect(l.estimateStartMs(2, 0, 100)).toBe(100 + W);
    expect(l.estimateStartMs(4, 0, 100)).toBe(2 * (100 + W));
    l.begin('a', 0);
    l.end('a', 50);
    expect(l.estimateStartMs(1, 1_000, 100)).toBe(50 + W - 1_000);
  });

  it('survives a restart through snapshot and restore', () => {
    const l = make(2, 500);
    l.begin('a', 0);
    l.end('a', 100);
    l.begin('b', 200);
    const saved = l.snapshot(300, 15_000);
    // 'b' is unanswered: it may still reach the CAD up to its 15 s timeout.
    expect(saved).toEqual([600, 200 + 15_000 + 500]);
    const again = make(2, 500);
    again.restore(saved, 1_000);
    expect(again.canSend(1_000)).toBe(false);
    expect(again.nextFreeAt(1_000)).toBe(600 + W);
    expect(again.canSend(600 + W)).toBe(true);
    again.begin('c', 600 + W);
    expect(again.nextFreeAt(600 + W)).toBe(15_700 + W);
  });

  it('keeps its rolling log in the store it is given, so two limiters can share one budget', () => {
    const store = new MemoryReleaseStore();
    const a = new RollingLimiter({ requests: 2, windowMs: W, marginMs: 500 }, store);
    const b = new RollingLimiter({ requests: 2, windowMs: W, marginMs: 500 }, store);
    a.begin('x', 0);
    a.end('x', 100);
    b.begin('y', 0);
    b.end('y', 200);
    expect(store.snapshot(1_000, W)).toEqual([600, 700]);
    expect(a.canSend(1_000)).toBe(false);
    expect(b.nextFreeAt(1_000)).toBe(600 + W);
    // Released times leave the store once the window has passed them.
    expect(store.snapshot(700 + W, W)).toEqual([]);
  });
});
