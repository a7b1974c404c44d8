/**
 * A budget this server shares with other servers on the same API key (the CAD's limits are
 * per key). The scheduler asks the gate before every request; the gate answers from a log
 * all servers share (server/budget/shared.ts keeps it in Redis) or, when that log cannot be
 * reached, from this server's safe share of the limit. Pure interface: nothing here touches
 * the world.
 */

/** What a server waits to send: its most urgent ready call, aging included. */
export interface Want {
  /** Effective priority now (1 most urgent; aging lowers it, so it may go below 1). */
  priority: number;
  /** When the call was queued, on the scheduler's clock: equal priorities go oldest first. */
  since: number;
}

export type Grant =
  /** A slot is held for one request under `ticket`; `release` or `cancel` it. */
  | { ok: true; ticket: string }
  /**
   * No slot now. Ask again at `retryAt` (scheduler clock), or with null when the gate says
   * so through `subscribe` (it is waiting for Redis, or for this server's lease to lapse).
   */
  | { ok: false; retryAt: number | null };

export interface BudgetGate {
  /**
   * Requests this server may have inside the window on its own right now: the whole budget
   * less the reserve while the shared log decides, its share while it cannot, 0 while it may
   * not send at all. The scheduler's own limiter counts this server's requests against it.
   */
  ownLimit(): number;
  /** Asks for one slot for a request of this urgency. Never rejects. */
  reserve(want: Want): Promise<Grant>;
  /** The request sent under `ticket` was answered (or timed out) now. */
  release(ticket: string): void;
  /** The slot was not used (the call went elsewhere meanwhile). */
  cancel(ticket: string): void;
  /** The most urgent call this server waits to send now, or null: for global priority. */
  publish(want: Want | null): void;
  /**
   * Release times (scheduler clock) of requests an earlier run sent, as its outbox kept them:
   * they go back into a shared log that lost them.
   */
  restored(releases: readonly number[]): void;
  /** `fn` runs whenever asking again may now succeed (Redis back, a share changed). */
  subscribe(fn: () => void): void;
}
