/**
 * Several servers on one API key, one CAD and one real Redis (sharedBudget): the budget is
 * shared, urgent calls go first across servers, and a dead server or a dead Redis costs no call
 * and trips no limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalCad, startLocalCad } from '../../sandbox/cad';
import { type RedisProcess, startRedis } from '../support/redis';
import { API_KEY, RESOURCE, type Rig, startRig } from './rig';

const consumer = `
const results = [];
exports('raise', (input) => exports['${RESOURCE}'].createDispatchCall(input, (r) => results.push(r)));
exports('results', () => results);
exports('status', () => exports['${RESOURCE}'].getQueueStatus());
`;
interface Consumer {
  raise(input: unknown): { ok: boolean; id?: string; error?: string };
  results(): { ok: boolean; id: string; callId?: number; error?: string }[];
  status(): Record<string, unknown>;
}

let redis: RedisProcess | null = null;
let cad: LocalCad | null = null;
let rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs) await r.close();
  rigs = [];
  await cad?.close();
  cad = null;
  await redis?.stop();
  redis = null;
});

const LIMIT = { requests: 4, windowMs: 2_000 };

async function servers(names: string[], extra: Record<string, unknown> = {}) {
  redis = await startRedis();
  cad = await startLocalCad({ keys: { [API_KEY]: { serverIds: [1] } }, limit: LIMIT });
  const out: { rig: Rig; api: Consumer }[] = [];
  for (const name of names) {
    const rig = await startRig({
      sharedCad: cad,
      config: {
        rateLimit: {
          requests: LIMIT.requests,
          windowSeconds: LIMIT.windowMs / 1000,
          marginMs: 100,
        },
        sharedBudget: { redisUrl: redis.url, name, reserve: 1 },
        exportCallsPerMinute: 100,
        ...extra,
      },
    });
    rigs.push(rig);
    rig.fx.startResource('alarms', { server: consumer });
    out.push({ rig, api: rig.fx.exportsOf<Consumer>('alarms') });
  }
  return out;
}

const call = (title: string, priority = 2) => ({
  title,
  description: 'alarm',
  communityUserIds: ['dispatch-desk'],
  coords: [420, -980, 30],
  priority,
});

describe('a budget shared through Redis', () => {
  it('two servers send every call without a 429 and never past the limit across both', async () => {
    const [a, b] = await servers(['main', 'second']);
    await a!.rig.fx.waitFor(() => /on Redis as "main"/.test(a!.rig.log()), { what: 'a on Redis' });
    await b!.rig.fx.waitFor(() => /on Redis as "second"/.test(b!.rig.log()), {
      what: 'b on Redis',
    });
    for (let i = 0; i < 6; i++) {
      a!.api.raise(call(`a${i}`));
      b!.api.raise(call(`b${i}`));
    }
    await a!.rig.fx.waitFor(() => cad!.calls.length === 12, {
      what: '12 calls',
      timeoutMs: 20_000,
    });
    expect(cad!.count429).toBe(0);
    expect(cad!.maxInAnyWindow(API_KEY)).toBeLessThanOrEqual(3);
  }, 30_000);
});
