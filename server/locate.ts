/**
 * Asking a player's client where it is, for calls the server raises on a player's behalf
 * (report911 and exports with a playerId). The answer must carry a nonce the server issued
 * to that very player and arrive in time; anything else is ignored.
 */

import type { Timers } from '../shared/delivery/scheduler';
import { parseLocated } from '../shared/input/report';
import type { ClientLocation } from '../shared/protocol';

/**
 * How long a client may take to say where it is, in ms: a call raised for a player is held
 * that long at most. A client answers within a frame or two; more is a client that is gone.
 */
export const LOCATE_TIMEOUT_MS = 1_500;

export interface LocatorDeps {
  ask(player: number, nonce: string): void;
  timers: Timers;
  newNonce(): string;
  /** How long a client may take to answer; the call is held that long at most. */
  timeoutMs: number;
}

export function createLocator(deps: LocatorDeps) {
  const pending = new Map<
    string,
    { player: number; done: (loc: ClientLocation | null) => void; timer: unknown }
  >();
  return {
    timeoutMs: deps.timeoutMs,
    /** Calls `done` exactly once: with the client's answer, or null after the timeout. */
    request(player: number, done: (location: ClientLocation | null) => void): void {
      const nonce = deps.newNonce();
      const timer = deps.timers.set(() => {
        pending.delete(nonce);
        done(null);
      }, deps.timeoutMs);
      pending.set(nonce, { player, done, timer });
      deps.ask(player, nonce);
    },
    /** A `located` event; false when it answers nothing this player was asked. */
    answer(player: number, payload: unknown): boolean {
      const parsed = parseLocated(payload);
      const entry = parsed ? pending.get(parsed.nonce) : undefined;
      if (!parsed || !entry || entry.player !== player) return false;
      pending.delete(parsed.nonce);
      deps.timers.clear(entry.timer);
      entry.done(parsed.location);
      return true;
    },
  };
}

export type Locator = ReturnType<typeof createLocator>;
