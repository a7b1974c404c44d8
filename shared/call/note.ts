/**
 * A note on a call the CAD already created: `POST /v2/emergency/servers/{serverId}/
 * dispatch-calls/{callId}/notes` with `{ note, noteType, label }`, answered 200 `{ callId,
 * note }` (SonoranCAD-Documentation, api-endpoints-v2/emergency/calls/add-call-note.md).
 * Its own budget: 60 requests per minute per key.
 */
import { z } from 'zod';
import { dispatchCallSchema } from './contract';

/** The longest note text sent; planJoin never builds a longer one. */
export const MAX_NOTE_TEXT = 4_000;
/** Players one note can carry (several reports share a waiting note). */
export const MAX_NOTE_PLAYERS = 200;

/** What the notes lane sends, with what it needs if the call turns out to be gone. */
export const noteRequestSchema = z.object({
  /** The call's priority: the notes lane orders its queue like the calls lane. */
  priority: z.int().min(1).max(9),
  /**
   * The CAD's call number, as it answered it; null while the call is on its way (the note is
   * held until it is known, and sent as a call of its own if it never is).
   */
  callId: z.union([z.int().positive(), z.string().regex(/^\d{1,18}$/)]).nullable(),
  note: z.string().min(1).max(MAX_NOTE_TEXT),
  noteType: z.string().min(1).max(32),
  label: z.string().max(100),
  /**
   * The call this report would have been: sent instead when the CAD refuses the note because
   * its call is gone, so nothing a player reported is lost.
   */
  fallback: dispatchCallSchema,
  /**
   * The players whose reports the note carries (several share one while it waits), so each
   * hears where their report went if it becomes a call of its own.
   */
  players: z.array(z.int()).max(MAX_NOTE_PLAYERS).default([]),
});
export type NoteRequest = z.infer<typeof noteRequestSchema>;

/** The request body the CAD receives: the note alone, without what only we need. */
export function noteBody(request: NoteRequest): { note: string; noteType: string; label: string } {
  return { note: request.note, noteType: request.noteType, label: request.label };
}
