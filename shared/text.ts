/**
 * What a player typed, made safe to forward: no control or invisible formatting characters
 * (they can hide text or reorder it on a dispatcher's screen), no chat colour codes, one
 * space between words, and a hard cap on length.
 */

// Cc: control characters; Cf: zero-width and bidi overrides; Co/Cs: private use, lone surrogates.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/gu;
// FiveM chat colour codes (^0 .. ^9, ^*, ^_, ^~, ^r) style the chat line, not the call.
const CHAT_CODES = /\^[0-9*_~r]/g;

export function cleanText(input: string, maxLength: number): string {
  const cleaned = input.replace(INVISIBLE, ' ').replace(CHAT_CODES, '').replace(/\s+/g, ' ').trim();
  // Count code points, not UTF-16 units, so an emoji is never cut in half.
  const chars = Array.from(cleaned);
  if (chars.length <= maxLength) return cleaned;
  return `${chars
    .slice(0, maxLength - 1)
    .join('')
    .trimEnd()}…`;
}
