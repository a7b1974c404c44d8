/**
 * Net event names and payload shapes shared by both sides. Types and constants only: the
 * client bundle imports this file and must not pull in zod.
 */
export const Events = {
  /** client -> server: the client script started and wants its command list. */
  hello: 'sonoran911:hello',
  /** server -> client: the commands to register, with chat help. */
  commands: 'sonoran911:commands',
  /** client -> server: a player used a command. Untrusted: validated on the server. */
  report: 'sonoran911:report',
  /** server -> client: where are you? (a call raised for this player by another resource) */
  locate: 'sonoran911:locate',
  /** client -> server: the answer, carrying the server's nonce. Untrusted too. */
  located: 'sonoran911:located',
  /** client -> server: one of our command names is registered by another resource there. */
  conflict: 'sonoran911:conflict',
  /** server -> client: a call this responder is alerted to; the client draws its blip. */
  alert: 'sonoran911:alert',
} as const;

/** Local server events other resources can listen to. */
export const LocalEvents = {
  callCreated: 'sonoran911:callCreated',
  callFailed: 'sonoran911:callFailed',
} as const;

export interface CommandsPayload {
  /**
   * Only the commands this player's ACEs allow: a client registers every command it is sent,
   * and a client-side command is open to everyone on that client and suggested by the chat.
   */
  commands: { name: string; help: string }[];
  param: { name: string; help: string };
}

/** What the client can see that the server cannot: names of the place. */
export interface ClientLocation {
  x: number;
  y: number;
  z: number;
  heading: number;
  street: string;
  crossing: string;
  zone: string;
}

export interface LocatePayload {
  nonce: string;
}

export interface LocatedPayload {
  nonce: string;
  location: ClientLocation;
}

/**
 * The most of a report's words a client sends. The server cuts longer text to this too,
 * never refuses it, so the call is still made and the player hears the words were cut.
 */
export const MAX_REPORT_CHARS = 4_000;

export interface ReportPayload {
  command: string;
  description: string;
  location: ClientLocation;
}

export interface ConflictPayload {
  command: string;
  resource: string;
}

/** Only what the blip needs: no caller, no words (those go to the chat line). */
export interface AlertPayload {
  /** The call's request id: a second alert for the same call replaces its blip. */
  id: string;
  label: string;
  x: number;
  y: number;
  z: number;
  /** How long the blip stays. */
  seconds: number;
}
