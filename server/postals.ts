/**
 * Postal data, loaded on first use from config `postals.file` (inside this resource) or from
 * the file the `postals.resource` manifest names in `postal_file`. A failed load is retried
 * at most every 30 s, so a postal resource that starts after us is picked up.
 */
import { nearestPostal, type PostalPoint, parsePostals } from '../shared/call/postal';
import type { Logger } from './log';
import type { World } from './world';

export interface PostalConfig {
  file: string | null;
  resource: string | null;
}

const RETRY_MS = 30_000;

export function createPostals(world: World, config: PostalConfig, log: Logger, now: () => number) {
  let points: PostalPoint[] | null = null;
  let lastTry = Number.NEGATIVE_INFINITY;
  let lastProblem = '';

  const locate = (): { resource: string; path: string } | string => {
    if (config.file) return { resource: world.resourceName(), path: config.file };
    if (!config.resource)
      return 'no postal source configured (postals.file and postals.resource are null)';
    const state = world.resourceState(config.resource);
    if (state !== 'started') return `resource "${config.resource}" is ${state}`;
    const path = world.resourceMetadata(config.resource, 'postal_file');
    if (!path) return `resource "${config.resource}" names no postal_file in its manifest`;
    return { resource: config.resource, path };
  };

  const load = (): void => {
    lastTry = now();
    const where = locate();
    let problem: string;
    if (typeof where === 'string') {
      problem = where;
    } else {
      const text = world.loadFile(where.resource, where.path);
      const parsed = text === null ? null : parsePostals(text);
      if (parsed?.ok) {
        points = parsed.points;
        const skipped = parsed.skipped > 0 ? ` (${parsed.skipped} malformed entries skipped)` : '';
        log.info(`loaded ${points.length} postals from ${where.resource}/${where.path}${skipped}`);
        return;
      }
      problem = `${where.resource}/${where.path}: ${parsed ? parsed.error : 'file not found'}`;
    }
    // Said once per distinct problem, not at every call.
    if (problem !== lastProblem) log.warn(`postals unavailable, calls carry no postal: ${problem}`);
    lastProblem = problem;
  };

  return {
    nearest(x: number, y: number): string | null {
      if (!points && now() - lastTry >= RETRY_MS) load();
      return points ? (nearestPostal(points, x, y)?.code ?? null) : null;
    },
    /** Called when the postal resource (re)starts. */
    reload(): void {
      points = null;
      lastTry = Number.NEGATIVE_INFINITY;
    },
  };
}

export type Postals = ReturnType<typeof createPostals>;
