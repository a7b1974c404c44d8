/**
 * How a report joins the incident it matched (see incidents.ts): folded into the call while
 * that still waits in the queue (no extra request at all), a note on it once the CAD created
 * it, or, when neither can be, a call of its own. Pure: the intake and the benchmark both
 * decide with it, so the benchmark replays exactly the intake's rule.
 */
import type { DispatchCall } from '../call/contract';
import { MAX_NOTE_PLAYERS, type NoteRequest } from '../call/note';
import type { Incident } from './incidents';

/** Reports folded into one waiting call at most; past it a report opens a call of its own. */
export const MAX_FOLDED = 50;
/** A note shared by several reports grows to this at most; past it a report starts a new one. */
const MAX_NOTE = 2_000;

export interface JoiningReport {
  /** The call the report would be on its own: its priority and title, and the fallback. */
  call: DispatchCall;
  /** Who the dispatcher reads it is from. */
  name: string;
  /** What they said; '' for a script's call with no words (its note is then the name). */
  words: string;
  /** When it was made, as an ISO string. */
  time: string;
  /** The player who made it; null for a script's call without one. */
  player: number | null;
}

export type Join =
  /** The waiting call with the report folded in: put back with `scheduler.update`. */
  | { as: 'fold'; call: DispatchCall }
  /**
   * A note on the call, for the notes lane. Its callId is null while the call is in flight:
   * the note is then held until the call's number is known (see Incident.noteId).
   */
  | { as: 'note'; note: NoteRequest }
  /**
   * The incident's note still waiting on the notes lane, with this report added: several
   * reports share one request (put back with the notes scheduler's `update`).
   */
  | { as: 'share'; noteId: string; note: NoteRequest }
  /**
   * A call of its own: as many reports as a call holds are folded in already, or the CAD
   * created it and its number was lost.
   */
  | null;

/**
 * `waiting` gives the body of the incident's call while it waits in the queue (not in flight,
 * not done), null otherwise (`scheduler.peek`); it is asked only before the CAD created it.
 */
export function planJoin(
  incident: Pick<Incident, 'created' | 'callId' | 'noteId'>,
  waiting: () => DispatchCall | null,
  r: JoiningReport,
  /** The body of a note still waiting on the notes lane (its `peek`); null otherwise. */
  waitingNote: (id: string) => NoteRequest | null = () => null,
): Join {
  const folded = { time: r.time, label: r.name, type: 'text', content: r.words };
  if (!incident.created) {
    const current = waiting();
    if (current && current.notes.length < MAX_FOLDED)
      return { as: 'fold', call: { ...current, notes: [...current.notes, folded] } };
    // In flight this very moment: the report waits as a note for the call's number (its
    // callId null), instead of opening a second call for the same incident.
    if (current) return null;
  } else if (incident.callId === null) {
    // Created, but its number was lost: there is nothing to add a note to.
    return null;
  }
  // Cut to what one note may hold (a first line can be longer than a shared note may grow).
  const line = (r.words === '' ? r.name : `${r.name}: ${r.words}`).slice(0, MAX_NOTE);
  const shared = incident.noteId !== null ? waitingNote(incident.noteId) : null;
  if (shared && incident.noteId !== null && shared.note.length + 1 + line.length <= MAX_NOTE) {
    return {
      as: 'share',
      noteId: incident.noteId,
      note: {
        ...shared,
        note: `${shared.note}\n${line}`,
        players:
          r.player === null ||
          shared.players.includes(r.player) ||
          shared.players.length >= MAX_NOTE_PLAYERS
            ? shared.players
            : [...shared.players, r.player],
        // Should the CAD refuse the note, the call sent instead carries every report in it.
        fallback: { ...shared.fallback, notes: [...shared.fallback.notes, folded] },
      },
    };
  }
  return {
    as: 'note',
    note: {
      priority: r.call.priority,
      callId: incident.callId,
      note: line,
      noteType: 'text',
      label: r.call.title.slice(0, 100),
      fallback: r.call,
      players: r.player === null ? [] : [r.player],
    },
  };
}
