/**
 * What the CAD tells Sonoran's own `sonorancad` resource about our calls, heard second hand.
 * The CAD pushes its events to sonorancad (its websocket, or its HTTP `/sonorancad/event`
 * route), and sonorancad raises them again as plain local server events; we only listen to
 * those. We never open a push receiver or a websocket of our own: the CAD sends each push
 * to one place, and that place is sonorancad's.
 *
 * Read from Sonoran-Software/SonoranCADFiveM (sonorancad/core/httpd.lua, unittracking.lua,
 * submodules/dispatchnotify/sv_dispatchnotify.lua):
 * - `SonoranCAD::pushevents:DispatchEvent(data)`: data is `{ dispatch_type, dispatch }`,
 *   `dispatch` the call object (`callId`, `status`, `idents`, `metaData`, ...). A close is
 *   `dispatch_type` 'CALL_CLOSE' with `dispatch.status` set to 2; dispatchnotify also reads
 *   a numeric `dispatch_type` as an index into CALL_NEW, CALL_EDIT, CALL_CLOSE, CALL_NOTE,
 *   CALL_SELF_CLEAR, so we do too.
 * - `SonoranCAD::pushevents:UnitAttach(call, unit)`: `call` is sonorancad's call cache entry
 *   `{ dispatch_type?, dispatch }` (the 60 s poll stores it without a type), `unit` its unit
 *   cache entry `{ id, data: { name, unitNum, ... } }`. dispatchnotify raises it again for
 *   each unit of a call created in the CAD, so the same unit may come twice.
 * Both are raised only for calls sonorancad has in its cache: a call the poll has not seen
 * yet (its first minute, or after a sonorancad restart) closes or gets units in silence.
 * `SonoranCAD::pushevents:CadCallRemoved(callId)` is left out on purpose: it removes a 911
 * call, and ours are dispatch calls; nothing says the two tables never share an id.
 *
 * The handlers are plain local ones: dispatchnotify registers both names as net events, so
 * a client could raise them, but FXServer checks net safety per resource and we never mark
 * them safe. While sonorancad is not started, whoever raises these is not sonorancad, and
 * they are ignored. Nothing here throws: a payload we cannot read is said once and dropped.
 */
import { cleanText } from '../shared/call/text';
import type { Logger } from './log';

/** The resource whose events these are; its name is fixed by Sonoran's install guide. */
export const SONORANCAD = 'sonorancad';

export const PushEventNames = {
  dispatch: 'SonoranCAD::pushevents:DispatchEvent',
  unitAttach: 'SonoranCAD::pushevents:UnitAttach',
} as const;

/** CALL_STATUS CLOSED in the CAD's enum (Get Calls); sonorancad sets it on a close. */
const STATUS_CLOSED = 2;
/** dispatchnotify's list for a numeric `dispatch_type` (index = the number). */
const DISPATCH_TYPES = ['CALL_NEW', 'CALL_EDIT', 'CALL_CLOSE', 'CALL_NOTE', 'CALL_SELF_CLEAR'];
/** A unit name is a CAD profile's name, shown to a caller: one plain line. */
const MAX_UNIT_NAME = 64;
/** A call id sent as a string: 15 digits are always a safe integer. */
const CALL_ID = /^\d{1,15}$/;

export interface PushEventsDeps {
  /** Adds a plain local server event handler (never net-safe). */
  on(event: string, handler: (...args: unknown[]) => void): void;
  /** GetResourceState: 'started' when sonorancad runs. */
  resourceState(name: string): string;
  log: Logger;
  /** A dispatcher closed the call in the CAD. Ids are passed as positive integers. */
  closed(callId: number | string): void;
  /** A unit was attached to the call; its CAD name, or null when it has none. */
  unitAttached(callId: number | string, unit: string | null): void;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A positive integer call id, from a number or a digit string; null otherwise. */
export function callIdOf(value: unknown): number | null {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && CALL_ID.test(value.trim())
        ? Number(value)
        : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/**
 * The call object of an event argument: `{ dispatch: call }` as sonorancad raises it,
 * `{ dispatch: { dispatch: call } }` as its close handler guards against, or a bare call.
 */
function callOf(value: unknown): Record<string, unknown> | null {
  if (!isRecord(value)) return null;
  const inner = value.dispatch;
  if (isRecord(inner)) return isRecord(inner.dispatch) ? inner.dispatch : inner;
  return 'callId' in value ? value : null;
}

function dispatchType(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return DISPATCH_TYPES[value] ?? null;
  return null;
}

/** The unit's CAD name (`data.name`, else a top-level `name`); null when it has none. */
export function unitNameOf(unit: unknown): string | null {
  if (!isRecord(unit)) return null;
  const data = isRecord(unit.data) ? unit.data : unit;
  const name = typeof data.name === 'string' ? data.name : null;
  // The name comes from the CAD, not a player: a leading "[...]" is theirs to keep.
  return name === null ? null : cleanText(name, MAX_UNIT_NAME, false) || null;
}

export function createPushEvents(deps: PushEventsDeps) {
  const { log } = deps;
  let started = false;
  let present = false;
  const warned = new Set<string>();

  const warnOnce = (key: string, message: string): void => {
    if (warned.has(key)) return;
    warned.add(key);
    log.warn(message);
  };

  const running = (): boolean => {
    try {
      return deps.resourceState(SONORANCAD) === 'started';
    } catch {
      return false;
    }
  };

  const found = (): void => {
    if (present) return;
    present = true;
    log.info(
      `${SONORANCAD} found: calls a dispatcher closes take no more reports, and callers hear when units are attached (from the events ${SONORANCAD} raises; we open no receiver of our own)`,
    );
  };

  const lost = (): void => {
    if (!present) return;
    present = false;
    log.warn(
      `${SONORANCAD} stopped: call closes and units responding are not known until it is back`,
    );
  };

  /** Runs one handler: never throws into the event system, says each kind of failure once. */
  const guarded =
    (event: string, handle: (args: unknown[]) => void) =>
    (...args: unknown[]): void => {
      try {
        if (!running()) return;
        // Heard before its onResourceStart reached us (or with nobody passing that on).
        found();
        handle(args);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        warnOnce(
          `throw:${event}`,
          `handling ${event} failed (${message.split('\n')[0]}); later ones are still handled`,
        );
      }
    };

  const onDispatch = ([data]: unknown[]): void => {
    if (!isRecord(data)) {
      warnOnce('shape:dispatch', `${PushEventNames.dispatch} without a call object: ignored`);
      return;
    }
    const type = dispatchType(data.dispatch_type);
    const call = callOf(data);
    // A close is CALL_CLOSE; an edit that reads CLOSED is as closed, whatever the CAD sends.
    const closing =
      type === 'CALL_CLOSE' || (type === 'CALL_EDIT' && call?.status === STATUS_CLOSED);
    if (!closing) return;
    const callId = callIdOf(call?.callId);
    if (callId === null) {
      warnOnce('shape:close', `${PushEventNames.dispatch} CALL_CLOSE without a call id: ignored`);
      return;
    }
    deps.closed(callId);
  };

  const onUnitAttach = ([call, unit]: unknown[]): void => {
    const callId = callIdOf(callOf(call)?.callId);
    if (callId === null) {
      warnOnce('shape:attach', `${PushEventNames.unitAttach} without a call id: ignored`);
      return;
    }
    deps.unitAttached(callId, unitNameOf(unit));
  };

  return {
    /** The local event names listened to. */
    events: [PushEventNames.dispatch, PushEventNames.unitAttach] as string[],
    /** Subscribes (once) and says whether sonorancad runs now. */
    start(): void {
      if (started) return;
      started = true;
      deps.on(PushEventNames.dispatch, guarded(PushEventNames.dispatch, onDispatch));
      deps.on(PushEventNames.unitAttach, guarded(PushEventNames.unitAttach, onUnitAttach));
      if (running()) found();
    },
    /** onResourceStart: any resource's name. */
    resourceStarted(name: string): void {
      if (started && name === SONORANCAD) found();
    },
    /** onResourceStop: any resource's name. */
    resourceStopped(name: string): void {
      if (started && name === SONORANCAD) lost();
    },
    /** sonorancad was last seen running, so closes and attachments can be heard. */
    active(): boolean {
      return started && present;
    },
  };
}

export type PushEvents = ReturnType<typeof createPushEvents>;
