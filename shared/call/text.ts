/**
 * What a player typed, made safe to forward: no control or invisible formatting characters
 * (they can hide text or reorder it on a dispatcher's screen), no chat colour codes, one
 * space between words, and a hard cap on length.
 */

// Cc: control characters; Cf: zero-width and bidi overrides; Co/Cs: private use, lone surrogates.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/gu;
// FiveM chat colour codes (^0 .. ^9, ^*, ^_, ^~, ^r) style the chat line, not the call.
const CHAT_CODES = /\^[0-9*_~r]/g;

// Markup a CAD or a Discord relay might render: HTML tags and emphasis runs.
const MARKUP = /<\/?[a-z][^<>]{0,200}>|\*\*|__|~~|`/gi;

// Words a line uses to pose as the system rather than a caller. Deliberately not FIRE,
// POLICE, EMS or a 10-code: those are how callers start real reports ("FIRE - car on the
// highway", "10-50 on Route 68").
const SYSTEM_WORDS =
  'ALARM|ALERT|DISPATCH|DISPATCHER|SYSTEM|SERVER|ADMIN|ADMINISTRATOR|STAFF|CAD|SONORAN|CONSOLE|BROADCAST|NOTICE|OFFICIAL|AUTOMATED|AUTO|PRIORITY|URGENT|BOT';
// A fake header at the very start: a tag in capitals in brackets ("[ALARM]", "{SYSTEM}",
// "<<DISPATCH>>", "[10-99]"; the "<>" that markup removal leaves of the last), or system words ending in a colon or arrow ("DISPATCH:",
// "SYSTEM ALERT >"). Anything else at the start is the caller's words and stays.
const HEADER = new RegExp(
  `^(?:<+>+|\\[[A-Z0-9 ._-]{1,32}\\]|\\{[A-Z0-9 ._-]{1,32}\\}|<{1,2}[A-Z0-9 ._-]{1,32}>{1,2}|(?:${SYSTEM_WORDS})(?:[ _-](?:${SYSTEM_WORDS}))*\\s*(?::+|>+|\\|+))\\s*`,
);

/**
 * Words made safe: invisible characters, colour codes and markup gone, spaces collapsed and,
 * for what players type, a fake system header at the very start removed. `stripHeaders` is
 * false for text from other resources on the server, which may carry its own "[ALARM]".
 */
export function cleanWords(input: string, stripHeaders = true): string {
  let cleaned = input
    .replace(INVISIBLE, ' ')
    .replace(CHAT_CODES, '')
    .replace(MARKUP, '')
    .replace(/\s+/g, ' ')
    .trim();
  for (let i = 0; stripHeaders && i < 10; i++) {
    const next = cleaned.replace(HEADER, '');
    if (next === cleaned) break;
    cleaned = next;
  }
  return cleaned;
}

/** At most `maxLength` characters (code points, so an emoji is never cut in half), with … when cut. */
export function capLength(text: string, maxLength: number): string {
  const chars = Array.from(text);
  if (chars.length <= maxLength) return text;
  return `${chars
    .slice(0, maxLength - 1)
    .join('')
    .trimEnd()}…`;
}

/** Whether capLength would cut `text`. */
export const tooLong = (text: string, maxLength: number): boolean =>
  text.length > maxLength && Array.from(text).length > maxLength;

export function cleanText(input: string, maxLength: number, stripHeaders = true): string {
  return capLength(cleanWords(input, stripHeaders), maxLength);
}
