/**
 * What the shared-budget tests on a real Redis (single server and cluster) share: real time
 * and timers, and a lane small enough that a window passes in a second.
 */
import type { LaneSpec } from '../../server/budget/shared';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it answers something truthy. */
export async function until<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 5_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** 4 requests a 1 s window, 1 held back: 3 shared, a share of 1 for each of two servers. */
export const CALLS: LaneSpec = {
  name: 'calls',
  requests: 4,
  windowMs: 1_000,
  marginMs: 20,
  maxRequestMs: 300,
};

/** Real timers, as the resource's own. */
export const timers = {
  set: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clear: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
};
