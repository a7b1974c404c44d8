/**
 * Every line a player can read comes from this table, so a server can translate the
 * resource by overriding keys under `messages` in its config. `{name}` placeholders are
 * filled by `format`; an unknown placeholder is left as it is so a typo shows up in game.
 */
export const defaultMessages = {
  chatAuthor: 'Dispatch',
  usage: 'Usage: /{command} <what happened>',
  suggestionParam: 'what happened',
  suggestionParamHelp: 'Describe the emergency and where you are',
  received: 'Your call was received and is being sent to dispatch.',
  cut: 'Your description was too long: only its first {max} characters were kept.',
  receivedWait:
    'Your call was received. Dispatch lines are busy: you are number {place} in line, it will be sent in about {wait}.',
  /** The queue is full for calls this urgent; {wait} is roughly when there will be room. */
  queueFull:
    'Dispatch lines are overloaded and cannot take your call right now. Please try again in about {wait}.',
  created: 'Dispatch call #{callId} created. Help has been notified.',
  /** A report that joined a call the CAD already created (a note on it). */
  merged: 'Your report was added to dispatch call #{callId}.',
  /** A report that joined a call still on its way to the CAD; `merged` follows with its number. */
  mergedPending: 'Your report was added to a call already on its way to dispatch.',
  /** A unit was attached to the caller's call (needs Sonoran's sonorancad resource). */
  unitsResponding: 'Units are responding to your call #{callId}.',
  /** The CAD created the call but its answer (with the number) was lost on the way. */
  createdNoNumber: 'Your dispatch call was created. Help has been notified.',
  busy: 'Dispatch lines are busy: your call will be sent in about {wait}.',
  delayed:
    'Dispatch cannot be reached right now. Your call is kept and will be sent as soon as it can.',
  rejected: 'Dispatch could not accept your call ({reason}). Please tell staff.',
  unavailable: 'The emergency line is unavailable right now. Please tell staff.',
  noPermission: 'You are not allowed to use /{command}.',
  cooldown: 'Please wait {seconds} s before using /{command} again.',
  noTarget:
    'Your call cannot be routed: this server has no dispatch target for you. Please tell staff.',
  /** A command set to refuse downed callers (downed: "refuse"). */
  downed: 'You cannot make a call while you are down.',
  /** A command set to refuse handcuffed callers (cuffed: "refuse"). */
  cuffed: 'You cannot reach a phone while you are handcuffed.',
  /** A command with a phoneItem the player does not carry. */
  noPhoneItem: 'You need a phone to use /{command}.',
  /** The description of a distress call its downed caller typed no words for. */
  distressWords: 'Caller is down and not responding.',
  /** Told to the caller after "received" when responders in game were alerted. */
  alertedOne: '1 unit on duty was notified.',
  alertedMany: '{count} units on duty were notified.',
  /** The chat author of what responders read. */
  responderAuthor: '911',
  /** A responder reads this when a call is taken; {place} is responderPlace or the address. */
  responderAlert: '{title}: {words} ({place})',
  responderPlace: '{address}, postal {postal}',
  /** ...and this once the CAD created it. */
  responderCreated: 'CAD call #{callId}: {title} ({place})',
  unknownLocation: 'Unknown location',
  /** The address when only the postal is known (calls raised by other resources, for instance). */
  nearPostal: 'Near postal {postal}',
  anonymousCaller: 'Anonymous',
  seconds: '{n} s',
  minutes: '{n} min',
} as const;

export type MessageKey = keyof typeof defaultMessages;
export type Messages = Record<MessageKey, string>;

export function format(template: string, vars: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    Object.hasOwn(vars, key) ? String(vars[key]) : whole,
  );
}

/** A wait in words a player can act on: seconds under two minutes, then whole minutes. */
export function formatWait(ms: number, messages: Messages): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 120) return format(messages.seconds, { n: seconds });
  return format(messages.minutes, { n: Math.ceil(seconds / 60) });
}
