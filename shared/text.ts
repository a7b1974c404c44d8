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
// What impersonates a system header at the start: "[ALARM]", "{SYSTEM}", "<<DISPATCH>>",
// "DISPATCH:", "10-99 -". Stripped repeatedly, so "[A] [B] C:" goes too.
const HEADER = /^(?:[[({<]{1,2}[^\])}>]{0,32}[\])}>]{1,2}|[A-Z0-9][A-Z0-9 ._-]{1,24}\s*[:|>-]+)\s*/;

/**
 * `stripHeaders` is for what players type; text from other resources on the server may
 * carry its own "[ALARM]" on purpose.
 */
export function cleanText(input: string, maxLength: number, stripHeaders = true): string {
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
  // Count code points, not UTF-16 units, so an emoji is never cut in half.
  const chars = Array.from(cleaned);
  if (chars.length <= maxLength) return cleaned;
  return `${chars
    .slice(0, maxLength - 1)
    .join('')
    .trimEnd()}…`;
}
