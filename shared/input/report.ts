/**
 * The server's parser for `sonoran911:report`. Anything a cheat can send arrives here:
 * strings are capped, numbers must be finite, unknown keys are ignored and the result is a
 * fresh object, so nothing from the payload's prototype survives.
 */
import { z } from 'zod';
import { cleanText } from '../call/text';
import { MAX_REPORT_CHARS, type ReportPayload } from '../protocol';

const finite = z.number().finite();
/** Longest street, crossing or zone name kept; the game's longest are about 30. */
export const MAX_PLACE_NAME = 64;
// A place name comes from the client and lands in the call's address and block: cleaned
// like typed text (a forged one can carry bidi overrides, markup, colour codes or an
// "[ALARM]" header), then capped. Junk of any length is read, never refused, so one bad
// name does not cost the whole report.
const name = z.string().transform((s) => cleanText(s.slice(0, 1_000), MAX_PLACE_NAME));

export const locationSchema = z.object({
  x: finite,
  y: finite,
  z: finite,
  heading: finite.catch(0),
  street: name.catch(''),
  crossing: name.catch(''),
  zone: name.catch(''),
});

export const reportPayloadSchema = z.object({
  command: z.string().min(1).max(32),
  // Cut later to the configured length; this cut only bounds the work done on junk.
  description: z.string().transform((s) => s.slice(0, MAX_REPORT_CHARS)),
  location: locationSchema.nullable().catch(null),
});

export type ParsedReport = z.infer<typeof reportPayloadSchema>;

export const locatedPayloadSchema = z.object({
  nonce: z.string().min(1).max(64),
  location: locationSchema,
});

export function parseLocated(payload: unknown): z.infer<typeof locatedPayloadSchema> | null {
  const result = locatedPayloadSchema.safeParse(payload);
  return result.success ? result.data : null;
}

export function parseReport(payload: unknown): ParsedReport | null {
  const result = reportPayloadSchema.safeParse(payload);
  return result.success ? result.data : null;
}

/** Compile-time check that what the client sends fits what the server parses. */
export type PayloadsFit = [
  ReportPayload extends z.input<typeof reportPayloadSchema> ? true : never,
];
