/**
 * Nearest postal by 2D distance, computed on the server from the same data file
 * nearest-postal ships, so a client can never choose its own postal.
 */
import { z } from 'zod';

export interface PostalPoint {
  x: number;
  y: number;
  code: string;
}

const pointSchema = z.object({
  x: z.number().finite(),
  y: z.number().finite(),
  code: z.union([z.string().min(1), z.number().transform(String)]),
});

export type PostalParse =
  | { ok: true; points: PostalPoint[]; skipped: number }
  | { ok: false; error: string };

/** Parses a nearest-postal style file; entries that are not {x, y, code} are skipped and counted. */
export function parsePostals(text: string): PostalParse {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not valid JSON: ${(err as Error).message}` };
  }
  if (!Array.isArray(data))
    return { ok: false, error: 'expected a JSON list of { "x", "y", "code" }' };
  const points: PostalPoint[] = [];
  for (const entry of data) {
    const parsed = pointSchema.safeParse(entry);
    if (parsed.success) points.push(parsed.data);
  }
  if (points.length === 0) return { ok: false, error: 'no { "x", "y", "code" } entries found' };
  return { ok: true, points, skipped: data.length - points.length };
}

/**
 * A linear scan: the default map has about 1,700 points, a few microseconds of work, done
 * once per call. A spatial index would cost more code than it saves.
 */
export function nearestPostal(
  points: readonly PostalPoint[],
  x: number,
  y: number,
): PostalPoint | null {
  let best: PostalPoint | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const p of points) {
    const d = (p.x - x) ** 2 + (p.y - y) ** 2;
    if (d < bestDistance) {
      bestDistance = d;
      best = p;
    }
  }
  return best;
}
