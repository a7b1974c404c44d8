/**
 * A clock for one run on the wall clock's scale that moves only as a monotonic clock does:
 * setting the system clock back an hour (or forward, or a VM resumed a month later) neither
 * stalls sending nor lets it burst past the budget. Read once for its origin; after that the
 * wall clock is ignored until the next start.
 */
export function steadyClock(wall: () => number, monotonic: () => number): () => number {
  const origin = wall() - monotonic();
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    last = Math.max(last, origin + monotonic());
    return last;
  };
}
