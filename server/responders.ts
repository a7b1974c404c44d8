/**
 * Responders in game hear of a call: the on-duty players its alert names get a chat line at
 * once and a blip where it happened, and a second line with the CAD's call number once the
 * CAD created it. Who they were is kept in memory until then; a restart forgets it, and
 * the second line is then not sent (the call itself is never affected).
 */
import type { DispatchCall } from '../shared/call/contract';
import { renderTemplate } from '../shared/call/template';
import { format, type Messages } from '../shared/config/locale';
import type { AlertConfig } from '../shared/config/schema';
import type { AlertPayload } from '../shared/protocol';
import type { Characters } from './framework/characters';

/** Calls whose responders wait for the CAD's number; the oldest are forgotten past this. */
const MAX_TRACKED = 500;
const COLOR: [number, number, number] = [255, 170, 60];

export interface RespondersDeps {
  characters: Pick<Characters, 'responders'>;
  messages: Messages;
  chat(player: number, message: { color: number[]; args: string[] }): void;
  blip(player: number, payload: AlertPayload): void;
}

interface Alerted {
  players: number[];
  title: string;
  place: string;
}

export function createResponders(deps: RespondersDeps) {
  const { messages } = deps;
  const tracked = new Map<string, Alerted>();

  // The address may already be the postal ("Near postal 8055", when no street is known).
  const placeOf = (call: DispatchCall): string =>
    call.postal !== '' && !call.address.includes(call.postal)
      ? format(messages.responderPlace, { address: call.address, postal: call.postal })
      : call.address;

  return {
    /**
     * Alerts the responders of one accepted call; answers how many there were. `caller` is
     * left out: a responder calling 911 needs no alert of their own call.
     */
    alert(
      id: string,
      call: DispatchCall,
      words: string,
      alert: AlertConfig | null,
      caller: number | null,
    ): number {
      if (alert === null) return 0;
      const players = deps.characters.responders(alert, caller);
      if (players.length === 0) return 0;
      const place = placeOf(call);
      // A part with no value drops the text before it: an alarm raised without words reads
      // "Store alarm (Near postal 8055)", not "Store alarm:  (...)".
      const text = renderTemplate(messages.responderAlert, {
        title: call.title,
        code: call.code,
        words,
        place,
        postal: call.postal,
        address: call.address,
      });
      const x = Number(call.metaData?.x);
      const y = Number(call.metaData?.y);
      const z = Number(call.metaData?.z);
      const at = [x, y, z].every(Number.isFinite);
      for (const player of players) {
        deps.chat(player, { color: COLOR, args: [messages.responderAuthor, text] });
        if (at && alert.blipSeconds > 0)
          deps.blip(player, { id, label: call.title, x, y, z, seconds: alert.blipSeconds });
      }
      tracked.set(id, { players, title: call.title, place });
      if (tracked.size > MAX_TRACKED) tracked.delete(tracked.keys().next().value as string);
      return players.length;
    },
    /** How many would be alerted now (a held call is alerted once its place is known). */
    count(alert: AlertConfig | null, caller: number | null): number {
      return alert === null ? 0 : deps.characters.responders(alert, caller).length;
    },
    /**
     * The CAD created the call: the same responders read its number. Without one (the CAD's
     * answer was lost) there is nothing new to tell them.
     */
    created(
      id: string,
      callId: number | string | null,
      present: (player: number) => boolean,
    ): void {
      const alerted = tracked.get(id);
      tracked.delete(id);
      if (!alerted || callId === null) return;
      const text = format(messages.responderCreated, {
        callId,
        title: alerted.title,
        place: alerted.place,
      });
      for (const player of alerted.players)
        if (present(player))
          deps.chat(player, { color: COLOR, args: [messages.responderAuthor, text] });
    },
    /** The call ended without a number (refused for good, dropped). */
    forget(id: string): void {
      tracked.delete(id);
    },
  };
}

export type Responders = ReturnType<typeof createResponders>;
