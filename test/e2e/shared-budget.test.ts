/**
 * Several servers on one API key, one CAD and one real Redis (sharedBudget): the budget is
 * shared, urgent calls go first across servers, and a dead server or a dead Redis costs no call
 * and trips no limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalCad, startLocalCad } from '../../sandbox/cad';
import { type RedisProcess, startRedis } from '../../sandbox/support/redis';
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
        sharedBudget: { redisUrl: redis.url, name, reserve: 1, leaseSeconds: 2 },
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

type Server = Awaited<ReturnType<typeof servers>>[number];

interface Shared {
  mode: string;
  lanes: { name: string; ownLimit: number; shared: number }[];
}
const budget = (s: Server) => s.api.status().sharedBudget as Shared | null;
const mode = (s: Server) => budget(s)?.mode ?? 'none';

/**
 * Every server sends calls on the shared budget. A fresh log first puts them on their share
 * for one window of each lane (the notes lane's is a minute; it does not matter here).
 */
async function allShared(list: Server[]) {
  const onShared = (s: Server) => {
    const b = budget(s);
    const calls = b?.lanes.find((l) => l.name === 'calls');
    return (b?.mode === 'shared' || b?.mode === 'settling') && calls?.ownLimit === calls?.shared;
  };
  await list[0]!.rig.fx.waitFor(() => list.every(onShared), {
    what: 'every server on the shared budget',
    timeoutMs: 8_000,
  });
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

  it('sends the most urgent call waiting on any server first', async () => {
    const list = await servers(['a', 'b', 'c']);
    const [a, b, c] = list;
    await allShared(list);
    for (let i = 0; i < 8; i++) a!.api.raise(call(`a${i} burglary`, 3));
    // The window is full and a's calls wait for it.
    await a!.rig.fx.waitFor(() => cad!.calls.length >= 3, { what: 'a fills the window' });
    const before = cad!.calls.length;
    b!.api.raise(call('b0 shots fired', 1));
    b!.api.raise(call('b1 shots fired', 1));
    c!.api.raise(call('c0 crash', 2));
    c!.api.raise(call('c1 crash', 2));
    await a!.rig.fx.waitFor(() => cad!.calls.length === 12, {
      what: '12 calls',
      timeoutMs: 20_000,
    });
    // One of a's may already have been on its way when the urgent ones came.
    const after = cad!.calls.slice(before).map((c) => c.body.title as string);
    const next = after[0]!.startsWith('a') ? after.slice(1, 5) : after.slice(0, 4);
    expect(next.map((t) => t.slice(0, 1))).toEqual(['b', 'b', 'c', 'c']);
    expect(cad!.count429).toBe(0);
    expect(cad!.maxInAnyWindow(API_KEY)).toBeLessThanOrEqual(3);
  }, 40_000);

  it('goes on when a server dies mid-burst: its lease lapses and it blocks no one', async () => {
    const list = await servers(['a', 'b', 'c']);
    const [a, b, c] = list;
    await allShared(list);
    for (let i = 0; i < 4; i++) {
      a!.api.raise(call(`a${i}`, 3));
      b!.api.raise(call(`b${i}`, 3));
    }
    // c waits with the most urgent calls, then dies without a word (no onResourceStop).
    for (let i = 0; i < 3; i++) c!.api.raise(call(`c${i}`, 1));
    await a!.rig.fx.waitFor(
      () => cad!.calls.some((x) => (x.body.title as string).startsWith('c')),
      {
        what: "c's first call",
      },
    );
    c!.rig.fx.crash();
    const diedAt = Date.now();
    const fromC = () => cad!.calls.filter((x) => (x.body.title as string).startsWith('c')).length;
    // A request c had already sent still arrives; nothing c had not sent yet ever does.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cSent = fromC();
    await a!.rig.fx.waitFor(() => cad!.calls.length === 8 + cSent, {
      what: 'every call of a and b',
      timeoutMs: 25_000,
    });
    // c's calls that were not sent stay in its own outbox; none reached the CAD after it died.
    expect(fromC()).toBe(cSent);
    expect(cad!.count429).toBe(0);
    expect(cad!.maxInAnyWindow(API_KEY)).toBeLessThanOrEqual(3);
    const lastAt = Date.now() - diedAt;
    console.log(`server killed: the other two delivered their calls ${lastAt} ms after it died`);
  }, 40_000);

  it('loses no call and trips no limit when Redis dies mid-burst and comes back empty', async () => {
    const list = await servers(['a', 'b']);
    const [a, b] = list;
    await allShared(list);
    for (let i = 0; i < 6; i++) {
      a!.api.raise(call(`a${i}`, 2));
      b!.api.raise(call(`b${i}`, 2));
    }
    await a!.rig.fx.waitFor(() => cad!.calls.length >= 3, { what: 'three calls' });
    const killedAt = Date.now();
    const atKill = cad!.calls.length;
    await redis!.kill();
    // Each server waits out its own lease, then sends on its share (3 / 2 servers = 1).
    await a!.rig.fx.waitFor(() => list.every((s) => mode(s) === 'local'), {
      what: 'both on their share',
      timeoutMs: 6_000,
    });
    const localAt = Date.now() - killedAt;
    await a!.rig.fx.waitFor(() => cad!.calls.length > atKill, {
      what: 'a call sent without Redis',
      timeoutMs: 6_000,
    });
    await redis!.restart();
    const restartedAt = Date.now() - killedAt;
    await a!.rig.fx.waitFor(() => cad!.calls.length === 12, {
      what: '12 calls',
      timeoutMs: 30_000,
    });
    const doneAt = Date.now() - killedAt;
    expect(cad!.count429).toBe(0);
    expect(cad!.maxInAnyWindow(API_KEY)).toBeLessThanOrEqual(LIMIT.requests);
    for (const s of list) {
      expect(s.rig.log().match(/Redis cannot be reached/g)).toHaveLength(1);
      expect(s.rig.log()).toMatch(/Redis answers again/);
    }
    // Each call once: the outbox is local, so Redis losing its data duplicated nothing.
    expect(new Set(cad!.calls.map((x) => x.body.title)).size).toBe(12);
    console.log(
      `redis killed after ${atKill} calls: on the share after ${localAt} ms, restarted at ${restartedAt} ms, all 12 in after ${doneAt} ms; most in any window ${cad!.maxInAnyWindow(API_KEY)}, 429s ${cad!.count429}`,
    );
  }, 60_000);
});
