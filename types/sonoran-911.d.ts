/**
 * Types for resources that call sonoran-911's server exports. Copy this file into your
 * resource (or reference it) next to @citizenfx/server, then:
 *
 *   const answer = exports['sonoran-911'].createDispatchCall({ title: 'Alarm', coords: [x, y, z] }, (result) => {});
 */
export {};

declare global {
  /** A dispatch call in the contract's terms; only `title` is required. */
  interface Sonoran911CallInput {
    title: string;
    /** Default: exportDefaults.code ("ALERT"). */
    code?: string;
    /** 1 is the most urgent and is sent first. Default: exportDefaults.priority (2). */
    priority?: number;
    /** 0 RADIO_DISPATCH, 1 SELF_INITIATED. */
    origin?: 0 | 1;
    /** 0 PENDING, 1 ACTIVE, 2 CLOSED. */
    status?: 0 | 1 | 2;
    description?: string;
    /** Default: from the location templates (street names when playerId is given), else "Near postal N". */
    address?: string;
    block?: string;
    /** Default: the nearest postal to the position. */
    postal?: string;
    notes?: { label?: string; type?: string; content: string }[];
    communityUserIds?: string[];
    /** Account UUIDs. */
    accounts?: string[];
    /**
     * Flat values only; numbers and booleans are sent as strings. The resource sets source,
     * resource, requestId, x, y, z, postal, heading, callerName, callerPlayerId and
     * callerCommunityUserId itself: a call that sets one of them is refused.
     */
    metaData?: Record<string, string | number | boolean>;
    /** Positive whole minutes. */
    deleteAfterMinutes?: number;
    /** The caller: their communityUserId is attached and, without coords, their position used. */
    /** A server id, or its string as getPlayers() gives it. */
    playerId?: number | string;
    coords?: [number, number, number] | { x: number; y: number; z: number };
    /** Every call with this key within the merge window joins one call, wherever it is. */
    incidentKey?: string;
    /** false: never joins another call. */
    merge?: boolean;
  }

  type Sonoran911Answer =
    | {
        ok: true;
        id: string;
        position: number;
        /** Joined a call already made; callId: its CAD number once known. */
        merged?: boolean;
        callId?: number | string | null;
      }
    | { ok: false; error: string };
  type Sonoran911Result =
    /** callId: the CAD's number, or 'unknown' when its answer was lost or not a plain number. */
    | { ok: true; id: string; callId: number | string | null }
    | { ok: false; id: string; error: string };

  interface Sonoran911QueueStatus {
    queued: number;
    inFlight: number;
    stalled: number;
    deadLetters: number;
    usedInWindow: number;
    requestsPerWindow: number;
    windowMs: number;
    nextSendInMs: number | null;
    oldestWaitingMs: number | null;
    paused: boolean;
    pausedUntil: number | null;
    pauseReason: string | null;
    droppedPayloads: number;
    /** The notes lane: reports merged into calls the CAD already created. */
    notes: { queued: number; inFlight: number; usedInWindow: number; requestsPerWindow: number };
    /**
     * The budget shared with other servers on the key (config sharedBudget), or null. mode:
     * 'shared' while Redis decides; 'settling' or 'local' while this server sends on its share;
     * 'fenced' while it waits for its lease to lapse after losing Redis; 'connecting' at start.
     */
    sharedBudget: {
      mode: 'connecting' | 'shared' | 'settling' | 'fenced' | 'local';
      name: string;
      /** Servers remembered on the key (this one included), and how many hold a live lease. */
      servers: number;
      live: number;
      /** Per lane: what this server may send alone now, the shared limit, the log's count. */
      lanes: { name: string; ownLimit: number; shared: number; usedShared: number | null }[];
    } | null;
  }

  // A type alias, not an interface: it must fit CitizenExports' index signature.
  type Sonoran911Exports = {
    /** Answers at once; `callback` hears the CAD's verdict later. */
    createDispatchCall(
      input: Sonoran911CallInput,
      callback?: (result: Sonoran911Result) => void,
    ): Sonoran911Answer;
    /** What the player typing /911 would do (no cooldown: the caller decides). */
    report911(
      playerId: number | string,
      description: string,
      callback?: (result: Sonoran911Result) => void,
    ): Sonoran911Answer;
    getQueueStatus(): Sonoran911QueueStatus;
  };

  interface CitizenExports {
    'sonoran-911': Sonoran911Exports;
  }
}
