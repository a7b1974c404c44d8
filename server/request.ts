/**
 * What a door hands the intake: who raised a call, from which template, with which words,
 * what the client said of the place, and who wants the CAD's final answer. A door only
 * translates its input into one of these; the intake decides everything else.
 */
import type { CallTemplate, Position } from '../shared/call/build';
import type { CommandConfig } from '../shared/config/schema';
import type { ClientLocation } from '../shared/protocol';
import type { ResultCallback } from './dispatch';

export type CallRequest = PlayerReport | ScriptCall;

/** A player's command: typed in chat, or raised in their name (report911). */
export interface PlayerReport {
  kind: 'report';
  player: number;
  command: CommandConfig;
  /** As typed: the intake cleans and cuts them. */
  words: string;
  /** What the client said of where it stands with the report; null: the client is asked. */
  claimed: ClientLocation | null;
  /**
   * The player typed the command: its cooldown and who-may-call gates (downed, cuffed,
   * phoneItem) apply. report911's caller decides those itself.
   */
  typed: boolean;
  callback?: ResultCallback;
}

/** A call another resource raised with its own fields over exportDefaults (createDispatchCall). */
export interface ScriptCall {
  kind: 'script';
  resource: string;
  /** The caller, when the call names one: identity and (without coords) the place. */
  player: number | null;
  /** exportDefaults with the export's own fields over them; the title already cleaned. */
  template: CallTemplate;
  words: string;
  /** A place the script named itself: it wins over where the player stands. */
  coords: Position | null;
  postal?: string;
  address?: string;
  block?: string;
  notes?: { label?: string; type?: string; content: string }[];
  metaData?: Record<string, string>;
  /** Joins the call of the same key within the merge window (a heist's id). */
  incidentKey?: string;
  /** false: never joins another call. */
  merge?: boolean;
  callback?: ResultCallback;
}

/** What every door answers its caller at once; the CAD's verdict comes later (ResultCallback). */
export type CallAnswer =
  | {
      ok: true;
      id: string;
      position: number;
      /** The report joined a call already made (see merge); callId: its CAD number, once known. */
      merged?: boolean;
      callId?: number | string | null;
    }
  | { ok: false; error: string };
