/**
 * Where a call is: the server's view of the player (or a place a script named) first, the
 * client's word only when there is nothing else. Street names a client reports name the
 * call's place only when they were read within MAX_NAME_DISTANCE_M of it.
 */
import type { Position } from '../shared/call/build';
import type { ClientLocation } from '../shared/protocol';

/** Street names a client reports are used only within this distance of the server's view. */
export const MAX_NAME_DISTANCE_M = 100;

export interface Place {
  position: Position | null;
  names: { street?: string; crossing?: string; zone?: string };
  heading: number | null;
  postal: string | null;
  /** The client's names were set aside: read too far from the call's place. */
  farNames: boolean;
}

/**
 * `at`: the server's view or a script's coords, null when there is neither; `claimed`: what
 * the client said; `postal`: a script's own postal; `postalAt`: the nearest postal.
 */
export function placeOf(
  at: Position | null,
  claimed: ClientLocation | null,
  postalAt: (x: number, y: number) => string | null,
  postal?: string,
): Place {
  // Without a server view (no OneSync, a stale ped), the client's word is all there is.
  const position = at ?? (claimed ? { x: claimed.x, y: claimed.y, z: claimed.z } : null);
  const trusted =
    claimed && position && (at === null || withinNameDistance(position, claimed)) ? claimed : null;
  return {
    position,
    names: trusted
      ? { street: trusted.street, crossing: trusted.crossing, zone: trusted.zone }
      : {},
    heading: trusted ? trusted.heading : null,
    postal: postal ?? (position ? postalAt(position.x, position.y) : null),
    farNames: claimed !== null && position !== null && trusted === null,
  };
}

/** Whether street names read at `b` may describe the place `a`. */
export function withinNameDistance(a: { x: number; y: number }, b: { x: number; y: number }) {
  return Math.hypot(a.x - b.x, a.y - b.y) <= MAX_NAME_DISTANCE_M;
}
