/**
 * One incident, one call: the calls accepted in the last few minutes, so a report of the
 * same thing (close by, same command, or the same caller again, or the same incident key of
 * a script) joins the call instead of opening another. Pure: times and places are passed in.
 */

export interface MergeOptions {
  /** A report this close (metres, on the map's plane) to a call joins it. */
  radiusMeters: number;
  /** ...if the call was made at most this long ago. */
  windowMs: number;
  /** Only calls of the same command (or, for scripts, the same code) are joined. */
  sameCommand: boolean;
}

export interface Place2D {
  x: number;
  y: number;
}

export interface Incident {
  /** The queue id of the call the incident opened. */
  requestId: string;
  /** The command's name, or a script call's code: what `sameCommand` compares. */
  kind: string;
  /** A script's incidentKey; null for a report. */
  key: string | null;
  at: Place2D | null;
  openedAt: number;
  /** The CAD's number once it created the call; null before (or if its answer was lost). */
  callId: number | string | null;
  /** The call was created (callId may still be null when its number was lost). */
  created: boolean;
  /** Everyone whose reports are in it, by stable key (see stableKey), the opener first. */
  callers: string[];
  /** Their server ids, to tell them when units respond. */
  players: number[];
  /** Players whose reports were folded in before the CAD had the call: they hear its number. */
  waiting: number[];
  /** Reports joined into it, the opener's not counted. */
  joined: number;
  /** Its callers were told units respond: once per call, however many units attach. */
  unitsTold: boolean;
  /** The id of its latest note on the notes lane: reports share it while it waits. */
  noteId: string | null;
  /** Notes held for the call's number while it was in flight: released when it comes. */
  held: string[];
}

export type Match = { incident: Incident; why: 'follow-up' | 'key' | 'nearby' };

/** Calls kept at most; past it the oldest go. */
const MAX_INCIDENTS = 1_000;
/**
 * A call is remembered this long at least, past the merge window: units are attached long
 * after the last report, and its callers should still hear it.
 */
const KEEP_MS = 60 * 60_000;

export class Incidents {
  private readonly open = new Map<string, Incident>();

  constructor(private readonly options: MergeOptions) {}

  /** A new call was accepted: later reports may join it. */
  opened(i: {
    requestId: string;
    kind: string;
    key: string | null;
    at: Place2D | null;
    caller: string | null;
    player: number | null;
    now: number;
  }): Incident {
    const incident: Incident = {
      requestId: i.requestId,
      kind: i.kind,
      key: i.key,
      at: i.at,
      openedAt: i.now,
      callId: null,
      created: false,
      callers: i.caller === null ? [] : [i.caller],
      players: i.player === null ? [] : [i.player],
      waiting: [],
      joined: 0,
      unitsTold: false,
      noteId: null,
      held: [],
    };
    this.open.set(i.requestId, incident);
    if (this.open.size > MAX_INCIDENTS) this.open.delete(this.open.keys().next().value as string);
    return incident;
  }

  /**
   * The call a report joins, if any: for a script's incident key, the call of that key and no
   * other; else the caller's own recent call of the same kind (a follow-up, from wherever they
   * now stand), then the nearest call of the same kind within the radius. Every one must be
   * within the window.
   */
  find(r: {
    kind: string;
    key: string | null;
    at: Place2D | null;
    caller: string | null;
    now: number;
  }): Match | null {
    this.prune(r.now);
    const candidates = [...this.open.values()].filter(
      (c) => r.now - c.openedAt <= this.options.windowMs,
    );
    if (r.key !== null) {
      const keyed = candidates.find((c) => c.key === r.key);
      if (keyed) return { incident: keyed, why: 'key' };
      // A keyed call opens its own incident: two heists are two calls, however close.
      return null;
    }
    if (r.caller !== null) {
      // The newest of the caller's own calls: the one they are following up.
      // A /311 about a stolen car is no follow-up on the caller's /911 about shots.
      for (let i = candidates.length - 1; i >= 0; i--) {
        const incident = candidates[i]!;
        if (this.options.sameCommand && incident.kind !== r.kind) continue;
        if (incident.key !== null) continue;
        if (incident.callers.includes(r.caller)) return { incident, why: 'follow-up' };
      }
    }
    if (r.at === null) return null;
    let best: Incident | null = null;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const c of candidates) {
      if (c.at === null || c.key !== null) continue;
      if (this.options.sameCommand && c.kind !== r.kind) continue;
      const distance = Math.hypot(c.at.x - r.at.x, c.at.y - r.at.y);
      if (distance <= this.options.radiusMeters && distance < bestDistance) {
        best = c;
        bestDistance = distance;
      }
    }
    return best ? { incident: best, why: 'nearby' } : null;
  }

  /** A report joined the incident (before the CAD created its call: `waiting`). */
  joined(incident: Incident, caller: string | null, player: number | null, waiting: boolean): void {
    incident.joined++;
    if (caller !== null && !incident.callers.includes(caller)) incident.callers.push(caller);
    if (player === null) return;
    // Someone already in the call (its caller's own follow-up) hears its number as theirs.
    if (incident.players.includes(player)) return;
    incident.players.push(player);
    if (waiting) incident.waiting.push(player);
  }

  /** The CAD created the incident's call. */
  created(requestId: string, callId: number | string | null): Incident | null {
    const incident = this.open.get(requestId);
    if (!incident) return null;
    incident.created = true;
    incident.callId = callId;
    return incident;
  }

  get(requestId: string): Incident | null {
    return this.open.get(requestId) ?? null;
  }

  /** By the CAD's number (push events name calls by it). */
  byCallId(callId: number | string): Incident | null {
    for (const incident of this.open.values())
      if (incident.callId !== null && String(incident.callId) === String(callId)) return incident;
    return null;
  }

  /** The call is closed, refused for good or dropped: nothing joins it any more. */
  ended(requestId: string): void {
    this.open.delete(requestId);
  }

  /** Forgets calls too old to matter (see KEEP_MS); oldest first, as they were opened. */
  prune(now: number): void {
    const keep = Math.max(this.options.windowMs, KEEP_MS);
    for (const [id, incident] of this.open) {
      if (now - incident.openedAt <= keep) break;
      this.open.delete(id);
    }
  }

  get size(): number {
    return this.open.size;
  }
}
