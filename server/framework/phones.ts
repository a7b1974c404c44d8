/**
 * A caller's phone number from the phone resource the server runs, for frameworks that keep
 * none of their own (ESX) or a character whose framework field is empty.
 *
 * Each phone's server export, as its source or its vendor's documentation names it
 * (checked 2026-11; sources in full in sandbox/frameworks/phones.ts):
 * - npwd (source, project-error/npwd 0f08eeb, apps/game/server/bridge/sv_exports.ts):
 *   async JS export `getPlayerData({ source })` → `{ phoneNumber, … }` or null.
 * - lb-phone (closed; its open framework files and the vendor docs' state-bags page):
 *   `GetEquippedPhoneNumber(source)` → the equipped phone's number, falsy without one.
 * - qs-smartphone (closed; vendor docs docs.quasar-store.com, smartphone server exports):
 *   the export lives in the companion resource: `exports['qs-base']:GetPlayerPhone(source)`.
 * - gksphone (closed; its fxmanifest lists the server export, usage in public bridges):
 *   `GetPhoneBySource(source)`.
 * - okokPhone (closed; public bridges only): `getPhoneNumberFromSource(source)`.
 * - yseries (closed; public bridges only): `GetPhoneNumberBySourceId(source)`.
 * What a closed phone answers for a player without a phone is not documented: every answer
 * that is not a usable number (nil, false, 0, '') reads as null.
 */
import type { FrameworkHost } from './types';

export interface PhoneSource {
  /** The resource whose state tells whether the phone runs. */
  resource: string;
  /**
   * The player's number now; null when the phone knows none. Throws (or rejects) as the
   * phone's export does: the caller falls back and never loses a call.
   */
  number(host: FrameworkHost, player: number): string | null | Promise<string | null>;
}

/** The longest number we pass on; longer answers are not a phone number. */
export const MAX_PHONE_LENGTH = 32;

/** C0 controls and DEL: nothing a phone number carries, and nothing the CAD should show. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * A phone's answer as a number to show: a non-empty string (trimmed) or a positive integer,
 * at most MAX_PHONE_LENGTH characters; anything else is null.
 */
export function phoneNumberOf(value: unknown): string | null {
  let text: string;
  if (typeof value === 'string') text = value.trim();
  else if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0)
    text = String(value);
  else return null;
  if (text === '' || text.length > MAX_PHONE_LENGTH || hasControl(text)) return null;
  return text;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A phone whose export takes the player's server id and answers the number itself. */
function bySource(resource: string, exportResource: string, exportName: string): PhoneSource {
  return {
    resource,
    number: (host, player) => phoneNumberOf(host.call(exportResource, exportName, player)),
  };
}

function npwdNumber(data: unknown): string | null {
  if (typeof data !== 'object' || data === null) return null;
  return phoneNumberOf((data as { phoneNumber?: unknown }).phoneNumber);
}

export const PHONES: readonly PhoneSource[] = [
  {
    resource: 'npwd',
    // An async JS export: a JS caller gets a promise. Kept general in case a build answers
    // synchronously.
    number(host, player) {
      const answer = host.call('npwd', 'getPlayerData', { source: player });
      return isThenable(answer) ? Promise.resolve(answer).then(npwdNumber) : npwdNumber(answer);
    },
  },
  bySource('lb-phone', 'lb-phone', 'GetEquippedPhoneNumber'),
  bySource('qs-smartphone', 'qs-base', 'GetPlayerPhone'),
  bySource('gksphone', 'gksphone', 'GetPhoneBySource'),
  bySource('okokPhone', 'okokPhone', 'getPhoneNumberFromSource'),
  bySource('yseries', 'yseries', 'GetPhoneNumberBySourceId'),
];

/**
 * The phone to ask: the configured one when it runs, or under 'auto' the first of PHONES
 * that runs; null when none is configured (null), the configured one is unknown or stopped,
 * or none runs.
 */
export function startedPhone(
  host: FrameworkHost,
  configured: string | 'auto' | null,
): PhoneSource | null {
  if (configured === null) return null;
  const started = (phone: PhoneSource) => host.resourceState(phone.resource) === 'started';
  if (configured === 'auto') return PHONES.find(started) ?? null;
  const phone = PHONES.find((p) => p.resource === configured);
  return phone && started(phone) ? phone : null;
}
