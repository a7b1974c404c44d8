/**
 * The server's parser for `sonoran911:report`. Anything a cheat can send arrives here:
 * strings are capped, numbers must be finite, unknown keys are ignored and the result is a
 * fresh object, so nothing from the payload's prototype survives.
 */
import { z } from 'zod';
import type { ReportPayload } from './events';

const finite = z.number().finite();
const name = z.string().max(64);

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
  // Cut later to the configured length; this cap only bounds the work done on junk.
  description: z.string().max(4_000),
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
