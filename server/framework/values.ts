/**
 * Reading what another resource answered: every value crossed msgpack from code we do not
 * control, so each may be missing or of another type. One set of readers for every adapter.
 */

export type Dict = Record<string, unknown>;

export const isDict = (v: unknown): v is Dict =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A non-empty string, or null. */
export const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** A server id as events pass it: a positive integer, or a string of one. */
export function playerId(value: unknown): number | null {
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null;
}
