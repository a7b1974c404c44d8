/**
 * The shared budget (server/budget) against a real redis-server: several servers on one API
 * key, each with its own SharedBudget and its own ioredis connection, driven through the gate
 * the scheduler uses. Real time, small numbers (windows of 1 to 2 s, leases under 2 s); each
 * test has a redis-server of its own, so the tests run side by side.
 */
import { createHash } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { describe, type ExpectStatic, it, type TestContext } from 'vitest';
import { mulberry32 } from '../../sandbox/support/prng';
import { startRedis } from '../../sandbox/support/redis';
import { connectRedis, type RedisConnection } from '../../server/budget/redis';
import { setUpSharedBudget } from '../../server/budget/setup';
import {
  type BudgetMode,
  type BudgetRedis,
  type LaneSpec,
  SharedBudget,
} from '../../server/budget/shared';
import { configSchema } from '../../shared/config/schema';
import type { BudgetGate, Grant, Want } from '../../shared/delivery/gate';
import type { KeyValueStore } from '../../shared/delivery/outbox';
import { CALLS, sleep, timers, until } from '../support/budget';

interface Line {
  level: 'info' | 'warn' | 'error';
  message: string;
}

interface Server {
  name: string;
  budget: SharedBudget;
  gate: BudgetGate;
  lines: Line[];
  /** Every mode the budget went through, when (it tells its subscribers on each change). */
  modes: { mode: BudgetMode; at: number }[];
  /** Budget commands that failed (the budget saw an error). */
  failures(): number;
  /** From now on every command fails and nothing reaches Redis: the process is gone, no bye. */
  die(): void;
  /** The connection is back: commands go through again. */
  revive(): void;
  /**
   * Commands wait (as they do in connectRedis while it reconnects) until `resume`, then go
   * through; `waiting` says how many wait.
   */
  stall(): void;
  resume(): void;
  waiting(): number;
  /** Every budget command this server made: the operation, when it was made. */
  calls: { op: string; at: number }[];
  /** What the ioredis connection reported (once per change). */
  connectionErrors: string[];
}

interface ServerOptions {
  name: string;
  prefix: string;
  /** Where this server's connection goes; the redis-server's URL unless given. */
  url?: string;
  lane?: LaneSpec;
  reserve?: number;
  leaseMs?: number;
  renewMs?: number;
  forgetMs?: number;
  pollMs?: number;
}

/**
 * One test's world: its own redis-server, and servers (budgets) on it, all stopped and
 * closed when the test ends, however it ends.
 */
async function world(onTestFinished: TestContext['onTestFinished']) {
  const redis = await startRedis();
  const budgets: SharedBudget[] = [];
  const connections: RedisConnection[] = [];
  const closers: (() => Promise<void>)[] = [];
  onTestFinished(async () => {
    await Promise.all(budgets.map((b) => b.stop()));
    await Promise.all(closers.map((close) => close()));
    await Promise.all(connections.map((c) => c.close()));
    await redis.stop();
  });
  let seed = 1;

  const server = (options: ServerOptions): Server => {
    const connectionErrors: string[] = [];
    const connection = connectRedis(options.url ?? redis.url, (message) =>
      connectionErrors.push(message),
    );
    connections.push(connection);
    let dead = false;
    let failures = 0;
    let stalled: { promise: Promise<void>; resolve: () => void } | null = null;
    let waiting = 0;
    const calls: Server['calls'] = [];
    const link: BudgetRedis = {
      ready: () => !dead && connection.ready(),
      async run(keys, args) {
        calls.push({ op: String(args[0]), at: Date.now() });
        try {
          // Nothing leaves: as when the connection is down (connectRedis marks it unsent).
          if (dead) throw Object.assign(new Error('this server is gone'), { unsent: true });
          if (stalled) {
            waiting++;
            await stalled.promise.finally(() => waiting--);
          }
          return await connection.run(keys, args);
        } catch (err) {
          failures++;
          throw err;
        }
      },
    };
    const lines: Line[] = [];
    const saved: number[] = [];
    const budget = new SharedBudget(
      {
        redis: link,
        now: Date.now,
        timers,
        random: mulberry32(seed++),
        log: {
          info: (message) => lines.push({ level: 'info', message }),
          warn: (message) => lines.push({ level: 'warn', message }),
        },
        servers: { load: () => saved.at(-1) ?? null, save: (count) => saved.push(count) },
      },
      {
        name: options.name,
        reserve: options.reserve ?? 1,
        keyPrefix: options.prefix,
        leaseMs: options.leaseMs ?? 600,
        renewMs: options.renewMs ?? 200,
        forgetMs: options.forgetMs,
        pollMs: options.pollMs ?? 100,
      },
    );
    const gate = budget.lane(options.lane ?? CALLS);
    const modes: Server['modes'] = [{ mode: budget.status().mode, at: Date.now() }];
    gate.subscribe(() => {
      const { mode } = budget.status();
      if (modes.at(-1)?.mode !== mode) modes.push({ mode, at: Date.now() });
    });
    budgets.push(budget);
    budget.start();
    return {
      name: options.name,
      budget,
      gate,
      lines,
      modes,
      failures: () => failures,
      die: () => {
        dead = true;
      },
      revive: () => {
        dead = false;
      },
      stall: () => {
        let resolve = () => {};
        const promise = new Promise<void>((done) => {
          resolve = done;
        });
        stalled = { promise, resolve };
      },
      resume: () => {
        stalled?.resolve();
        stalled = null;
      },
      waiting: () => waiting,
      calls,
      connectionErrors,
    };
  };

  /** A key whose log has run for a while: servers join it shared, no settling. */
  const oldLog = async (prefix: string) => {
    await redis.command('HSET', `${prefix}meta`, 'epoch', 'old', 'born', `${Date.now() - 600_000}`);
  };

  /** Redis' own clock (the script's), in ms. */
  const redisNow = async () => {
    const [s, us] = (await redis.command('TIME')) as [string, string];
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };

  /** The lease expiry Redis holds for `name` (Redis clock), or null when it forgot it. */
  const leaseOf = async (prefix: string, name: string) => {
    const value = (await redis.command('HGET', `${prefix}servers`, name)) as string | null;
    return value === null ? null : Number(value.split(':')[0]);
  };

  return { redis, server, oldLog, redisNow, leaseOf, closers };
}

const mode = (s: Server, want: BudgetMode, timeoutMs = 5_000) =>
  until(`${s.name} ${want}`, () => s.budget.status().mode === want, timeoutMs);

const want = (priority: number, since = Date.now()): Want => ({ priority, since });

function ticketOf(expect: ExpectStatic, grant: Grant): string {
  expect(grant).toMatchObject({ ok: true });
  return (grant as { ticket: string }).ticket;
}

function retryOf(expect: ExpectStatic, grant: Grant): number {
  expect(grant.ok).toBe(false);
  const { retryAt } = grant as { retryAt: number | null };
  expect(retryAt).not.toBeNull();
  return retryAt!;
}

/** The most intervals [start, end) that overlap at any instant. */
function mostAtOnce(intervals: { start: number; end: number }[]): number {
  const edges = intervals.flatMap((i) => [
    { at: i.start, step: 1 },
    { at: i.end, step: -1 },
  ]);
  // An interval ending where another starts does not overlap it.
  edges.sort((x, y) => x.at - y.at || x.step - y.step);
  let now = 0;
  let most = 0;
  for (const edge of edges) {
    now += edge.step;
    most = Math.max(most, now);
  }
  return most;
}

/**
 * A TCP link to Redis whose way in can be made slow: a command then reaches Redis `ms` late
 * (and is still run there), as over a congested network; answers come back at once.
 */
async function slowLink(port: number): Promise<{
  url: string;
  lag(ms: number): void;
  close(): Promise<void>;
}> {
  let lagMs = 0;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = connect({ port, host: '127.0.0.1' });
    sockets.add(client);
    sockets.add(upstream);
    const pending: { due: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | null = null;
    const flush = () => {
      timer = null;
      while (pending.length > 0 && pending[0]!.due <= Date.now()) {
        upstream.write(pending.shift()!.chunk);
      }
      if (pending.length > 0) timer = setTimeout(flush, pending[0]!.due - Date.now());
    };
    client.on('data', (chunk) => {
      pending.push({ due: Date.now() + lagMs, chunk });
      if (timer === null) flush();
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      if (timer !== null) clearTimeout(timer);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = proxy.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${proxyPort}`,
    lag: (ms) => {
      lagMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}

describe.concurrent('shared budget on a real Redis', () => {
  it('two servers on one key hold at most requests − reserve slots; a refused one hears when the oldest slot leaves the window', async ({
    expect,
    onTestFinished,
  }) => {
    const { server, oldLog, redis } = await world(onTestFinished);
    const prefix = 's911:{t1}:';
    await oldLog(prefix);
    const a = server({ name: 'a', prefix });
    const b = server({ name: 'b', prefix });
    await Promise.all([mode(a, 'shared'), mode(b, 'shared')]);
    expect(a.gate.ownLimit()).toBe(3);
    expect(b.gate.ownLimit()).toBe(3);

    const t0 = Date.now();
    const a1 = ticketOf(expect, await a.gate.reserve(want(3)));
    ticketOf(expect, await a.gate.reserve(want(3)));
    const b1 = ticketOf(expect, await b.gate.reserve(want(3)));
    // A fourth, from either server, is refused: the three are in flight, held until their
    // latest possible answer (sent + maxRequestMs + margin), then a window.
    const full = retryOf(expect, await b.gate.reserve(want(3)));
    const hold = CALLS.maxRequestMs + CALLS.marginMs;
    expect(full).toBeGreaterThanOrEqual(t0 + hold + CALLS.windowMs - 5);
    expect(full).toBeLessThanOrEqual(Date.now() + hold + CALLS.windowMs + 20 + 5);
    expect(await redis.command('ZCARD', `${prefix}log:calls`)).toBe(3);

    // The oldest is answered: its window starts now (plus the margin), so the slot comes back
    // a window later, not a window after its latest answer.
    const answered = Date.now();
    a.gate.release(a1);
    await sleep(30);
    const retryAt = retryOf(expect, await b.gate.reserve(want(3)));
    expect(retryAt).toBeGreaterThanOrEqual(answered + CALLS.marginMs + CALLS.windowMs - 5);
    expect(retryAt).toBeLessThanOrEqual(answered + CALLS.marginMs + CALLS.windowMs + 20 + 40);
    // Still refused just before it...
    await sleep(Math.max(0, retryAt - 150 - Date.now()));
    expect((await b.gate.reserve(want(3))).ok).toBe(false);
    // ...and granted at it.
    await sleep(Math.max(0, retryAt - Date.now()));
    const b2 = ticketOf(expect, await b.gate.reserve(want(3)));
    expect((await a.gate.reserve(want(3))).ok).toBe(false);
    a.gate.publish(null);
    await until('a withdrew its want', async () => {
      return (await redis.command('ZSCORE', `${prefix}wait:calls`, 'a')) === null;
    });

    // A slot not used (the call went elsewhere) is back at once.
    b.gate.cancel(b2);
    await until('the cancelled slot leaves the log', async () => {
      return (await redis.command('ZCARD', `${prefix}log:calls`)) === 2;
    });
    ticketOf(expect, await b.gate.reserve(want(3)));
    b.gate.release(b1);
  }, 8_000);

  it('under load from both servers, no instant ever has more than requests − reserve slots taken', async ({
    expect,
    onTestFinished,
  }) => {
    const { server, oldLog } = await world(onTestFinished);
    const prefix = 's911:{t1b}:';
    await oldLog(prefix);
    const a = server({ name: 'a', prefix, pollMs: 50 });
    const b = server({ name: 'b', prefix, pollMs: 50 });
    await Promise.all([mode(a, 'shared'), mode(b, 'shared')]);

    const random = mulberry32(42);
    // A slot is surely taken in Redis from its grant until its answer + margin + window: the
    // reserve ran before the grant arrived, the release after the answer was noted here.
    const taken: { start: number; end: number; server: string }[] = [];
    const stopAt = Date.now() + 2_200;
    const worker = async (s: Server) => {
      let since = Date.now();
      while (Date.now() < stopAt) {
        const grant = await s.gate.reserve(want(3, since));
        if (grant.ok) {
          const start = Date.now();
          await sleep(Math.floor(random() * 40));
          const answered = Date.now();
          s.gate.release(grant.ticket);
          // 2 ms less, for the two clocks' rounding.
          taken.push({
            start,
            end: answered + CALLS.marginMs + CALLS.windowMs - 2,
            server: s.name,
          });
          since = Date.now();
        } else {
          await sleep(Math.max(5, (grant.retryAt ?? Date.now() + 50) - Date.now()));
        }
      }
    };
    await Promise.all([worker(a), worker(a), worker(b), worker(b)]);

    expect(mostAtOnce(taken)).toBeLessThanOrEqual(3);
    // And the budget is used: three a window, from both servers.
    expect(taken.length).toBeGreaterThanOrEqual(6);
    expect(new Set(taken.map((t) => t.server)).size).toBe(2);
  }, 8_000);

  it('global priority: a more urgent (or equally urgent and older) call on a live server goes first; a dead one blocks at most its lease', async ({
    expect,
    onTestFinished,
  }) => {
    const { server, oldLog, redis } = await world(onTestFinished);
    const prefix = 's911:{t2}:';
    await oldLog(prefix);
    const a = server({ name: 'a', prefix });
    const b = server({ name: 'b', prefix });
    await Promise.all([mode(a, 'shared'), mode(b, 'shared')]);
    const waiting = (name: string) => redis.command('ZSCORE', `${prefix}wait:calls`, name);

    const aSince = Date.now() - 1_000;
    a.gate.publish(want(1, aSince));
    await until('a published its want', async () => (await waiting('a')) !== null);

    // Less urgent on b: behind, asked to try again after the poll.
    const asked = Date.now();
    const retryAt = retryOf(expect, await b.gate.reserve(want(3, Date.now() - 60_000)));
    expect(retryAt).toBeGreaterThanOrEqual(asked + 100 - 5);
    expect(retryAt).toBeLessThanOrEqual(Date.now() + 100 + 20 + 5);
    // Equally urgent but younger: behind too.
    retryOf(expect, await b.gate.reserve(want(1, aSince + 500)));
    // Equally urgent and older: b goes first.
    const older = ticketOf(expect, await b.gate.reserve(want(1, aSince - 500)));
    b.gate.cancel(older);

    // a has nothing waiting any more: b's priority-3 call goes.
    a.gate.publish(null);
    await until('a withdrew its want', async () => (await waiting('a')) === null);
    b.gate.cancel(ticketOf(expect, await b.gate.reserve(want(3))));

    // a wants again, then stops (bye): b goes at once.
    a.gate.publish(want(1));
    await until('a published again', async () => (await waiting('a')) !== null);
    retryOf(expect, await b.gate.reserve(want(3)));
    await a.budget.stop();
    b.gate.cancel(ticketOf(expect, await b.gate.reserve(want(3))));

    // c wants, then its process dies (no bye): b is held back until c's lease lapses, no longer.
    const c = server({ name: 'c', prefix });
    await mode(c, 'shared');
    c.gate.publish(want(1));
    await until('c published its want', async () => (await waiting('c')) !== null);
    retryOf(expect, await b.gate.reserve(want(3)));
    const died = Date.now();
    c.die();
    let granted: string | null = null;
    while (granted === null) {
      const grant = await b.gate.reserve(want(3));
      if (grant.ok) granted = grant.ticket;
      else await sleep(Math.max(0, (grant.retryAt ?? Date.now() + 100) - Date.now()));
      expect(Date.now() - died).toBeLessThan(2_000);
    }
    const blocked = Date.now() - died;
    // c renewed at most renewMs (200) before it died: its lease had 400 to 600 ms left.
    expect(blocked).toBeGreaterThanOrEqual(300);
    expect(blocked).toBeLessThanOrEqual(600 + 100 + 20 + 80);
    // c never said goodbye: its want is still there, only its lease decides.
    expect(await waiting('c')).not.toBeNull();
    b.gate.release(granted);
  }, 8_000);

  it('the API key never reaches Redis: every key is under one hash tag made from its hash; a new key settles for one window on the share', async ({
    expect,
    onTestFinished,
  }) => {
    const { redis, closers } = await world(onTestFinished);
    const apiKey = 'SECRET-api-key-0123456789';
    const kv = new Map<string, string>();
    const store: KeyValueStore = {
      get: (key) => kv.get(key) ?? null,
      set: (key, value) => {
        kv.set(key, value);
      },
      delete: (key) => {
        kv.delete(key);
      },
      keys: (prefix) => [...kv.keys()].filter((k) => k.startsWith(prefix)),
    };
    const lines: Line[] = [];
    const setup = setUpSharedBudget({
      config: configSchema.parse({
        sharedBudget: { redisUrl: redis.url, name: 'main', reserve: 1 },
      }),
      convar: () => '',
      secret: () => undefined,
      apiKey,
      store,
      now: Date.now,
      timers,
      log: {
        info: (message) => lines.push({ level: 'info', message }),
        warn: (message) => lines.push({ level: 'warn', message }),
        error: (message) => lines.push({ level: 'error', message }),
      },
    });
    expect(setup).not.toBeNull();
    closers.push(() => setup!.stop());
    const { budget } = setup!;
    const gate = budget.lane(CALLS);
    budget.start();

    // A key Redis never saw: for one window every server sends on its share (two servers
    // assumed until more are seen), each request logged, never refused by the log.
    await until('settling', () => budget.status().mode === 'settling');
    const settledAt = budget.status().settledAt!;
    expect(settledAt).toBeGreaterThan(Date.now());
    expect(settledAt).toBeLessThanOrEqual(Date.now() + CALLS.windowMs + 5);
    expect(gate.ownLimit()).toBe(1);
    expect(lines.some((l) => l.level === 'warn' && /held no budget/.test(l.message))).toBe(true);
    ticketOf(expect, await gate.reserve(want(3)));
    ticketOf(expect, await gate.reserve(want(3)));
    gate.publish(want(1));

    const hash = createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
    const prefix = `s911:{${hash}}:`;
    const keys = ((await redis.command('KEYS', '*')) as string[]).sort();
    expect(keys).toEqual([`${prefix}log:calls`, `${prefix}meta`, `${prefix}servers`]);
    expect(await redis.command('ZCARD', `${prefix}log:calls`)).toBe(2);

    await until('shared', () => budget.status().mode === 'shared', 3_000);
    expect(Date.now()).toBeGreaterThanOrEqual(settledAt - 5);
    expect(gate.ownLimit()).toBe(3);
    // Published only now that the log decides.
    gate.publish(want(1));
    await until('the want is published', async () => {
      return (await redis.command('ZSCORE', `${prefix}wait:calls`, 'main')) !== null;
    });

    const all = ((await redis.command('KEYS', '*')) as string[]).sort();
    expect(all.length).toBeGreaterThanOrEqual(4);
    const tags = new Set(all.map((key) => /\{([^}]*)\}/.exec(key)?.[1]));
    expect([...tags]).toEqual([hash]);
    for (const key of all) expect(key.startsWith(prefix)).toBe(true);
    // Nothing stored holds the key, or a piece of it.
    const dump: unknown[] = [];
    for (const key of all) {
      const type = await redis.command('TYPE', key);
      dump.push(
        type === 'hash'
          ? await redis.command('HGETALL', key)
          : await redis.command('ZRANGE', key, '0', '-1', 'WITHSCORES'),
      );
    }
    const text = JSON.stringify([all, dump]);
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain('0123456789');
    expect(JSON.stringify(lines)).not.toContain('SECRET');
  }, 8_000);

  it('a server whose lease lapsed (no bye) counts as its share for the others until it is forgotten', async ({
    expect,
    onTestFinished,
  }) => {
    const { server, oldLog, redisNow, leaseOf } = await world(onTestFinished);
    const prefix = 's911:{t5}:';
    await oldLog(prefix);
    const forgetMs = 700;
    const a = server({ name: 'a', prefix, forgetMs });
    const b = server({ name: 'b', prefix, forgetMs });
    await Promise.all([mode(a, 'shared'), mode(b, 'shared')]);
    await until('both are seen', () => b.budget.status().live === 2);

    a.die();
    await until('a fenced', () => a.budget.status().mode === 'fenced');
    // While a's lease may be live, a sends nothing at all.
    expect(a.gate.ownLimit()).toBe(0);
    expect(await a.gate.reserve(want(1))).toEqual({ ok: false, retryAt: null });
    const expiry = (await leaseOf(prefix, 'a'))!;
    await until('a lease lapsed', async () => (await redisNow()) > expiry + 5);

    // a may be sending on its share (3 / 2 servers = 1) without Redis: b gets the other 2.
    const t1 = ticketOf(expect, await b.gate.reserve(want(3)));
    const t2 = ticketOf(expect, await b.gate.reserve(want(3)));
    b.gate.release(t1);
    b.gate.release(t2);
    const refused = retryOf(expect, await b.gate.reserve(want(3)));
    // Free when the oldest of b's two leaves the window.
    expect(refused).toBeGreaterThan(Date.now() + CALLS.windowMs - 100);
    await mode(a, 'local');
    expect(a.gate.ownLimit()).toBe(1);
    await until('b sees a lapsed', () => b.budget.status().live === 1);
    expect(b.budget.status().servers).toBe(2);

    // Forgotten forgetMs after its lease lapsed: its share is free, and b shares by 1 server.
    await until('a forgotten', async () => (await redisNow()) > expiry + forgetMs + 5);
    ticketOf(expect, await b.gate.reserve(want(3)));
    expect(await leaseOf(prefix, 'a')).toBeNull();
    await until('b counts one server', () => b.budget.status().servers === 1);
    expect(b.budget.status().live).toBe(1);
    // a never reached Redis again: one line for the whole outage, however many commands failed.
    expect(a.failures()).toBeGreaterThanOrEqual(1);
    expect(a.lines.filter((l) => /cannot be reached/.test(l.message))).toHaveLength(1);
  }, 8_000);

  it('Redis killed: fenced until the lease lapsed, then local on the share; restarted empty: hello again, own sends back in the log, settling for one window, then shared; one line per outage', async ({
    expect,
    onTestFinished,
  }) => {
    const { redis, server, oldLog, leaseOf } = await world(onTestFinished);
    const prefix = 's911:{t4}:';
    await oldLog(prefix);
    // 7 a window, 1 held back: 6 shared, a share of 3 each. A lease longer than ioredis takes
    // to give up on a command (1.5 s), so the fence shows; requests that may take 3 s, so
    // those sent while Redis is away are still inside their window when it is back.
    const lane: LaneSpec = { ...CALLS, requests: 7, maxRequestMs: 3_000 };
    const a = server({ name: 'a', prefix, lane, leaseMs: 2_000 });
    const b = server({ name: 'b', prefix, lane, leaseMs: 2_000 });
    await Promise.all([mode(a, 'shared'), mode(b, 'shared')]);
    await until('both are seen', () => a.budget.status().live === 2);
    expect(a.gate.ownLimit()).toBe(6);
    a.gate.release(ticketOf(expect, await a.gate.reserve(want(3))));

    const lease = (await leaseOf(prefix, 'a'))!;
    await redis.kill();
    await mode(a, 'fenced', 4_000);
    expect(a.gate.ownLimit()).toBe(0);
    expect(await a.gate.reserve(want(1))).toEqual({ ok: false, retryAt: null });
    // Fenced at least until the lease Redis last held for it (plus a margin) has lapsed.
    expect(a.budget.status().fencedUntil!).toBeGreaterThanOrEqual(lease + 250);
    await mode(a, 'local', 3_000);
    expect(a.modes.find((m) => m.mode === 'local')!.at).toBeGreaterThanOrEqual(lease + 250 - 2);
    // Its share: the shared budget split between the servers last seen.
    expect(a.gate.ownLimit()).toBe(3);
    expect(a.budget.status().lanes[0]).toMatchObject({ ownLimit: 3, shared: 6 });
    // The gate grants at once; the scheduler holds this server to ownLimit.
    const before = Date.now();
    const local = [
      ticketOf(expect, await a.gate.reserve(want(3))),
      ticketOf(expect, await a.gate.reserve(want(3))),
      ticketOf(expect, await a.gate.reserve(want(3))),
    ];
    expect(Date.now() - before).toBeLessThan(50);
    await mode(b, 'local', 3_000);

    await redis.restart();
    await mode(a, 'settling', 6_000);
    // The three sent while Redis was away (still in flight) are back in the new log.
    expect(Number(await redis.command('ZCARD', `${prefix}log:calls`))).toBeGreaterThanOrEqual(3);
    expect(a.gate.ownLimit()).toBe(3);
    for (const ticket of local) a.gate.release(ticket);
    await mode(b, 'settling', 3_000);
    await mode(a, 'shared', 3_000);
    // Settling ends one window after the new log was born (whoever said hello first), never
    // early by a connect wait (see the hello that waited, below).
    const born = Number(await redis.command('HGET', `${prefix}meta`, 'born'));
    const sharedAt = a.modes.filter((m) => m.mode === 'shared').at(-1)!.at;
    expect(sharedAt).toBeGreaterThanOrEqual(born + CALLS.windowMs);
    expect(sharedAt).toBeLessThanOrEqual(born + CALLS.windowMs + 300);
    expect(a.gate.ownLimit()).toBe(6);
    expect(a.modes.map((m) => m.mode)).toEqual([
      'connecting',
      'shared',
      'fenced',
      'local',
      'settling',
      'shared',
    ]);

    // One "cannot be reached" line for the outage, however many commands failed; one
    // "answers again" line; and the empty Redis was said.
    const said = (pattern: RegExp) => a.lines.filter((l) => pattern.test(l.message));
    expect(a.failures()).toBeGreaterThanOrEqual(1);
    expect(said(/cannot be reached/)).toHaveLength(1);
    expect(said(/cannot be reached/)[0]!.level).toBe('warn');
    expect(said(/cannot be reached/)[0]!.message).toContain('3 calls a window, 2 servers');
    expect(said(/Redis answers again/)).toHaveLength(1);
    expect(said(/held no budget/)).toHaveLength(1);
    // ioredis' own reports: once per change, not once per reconnect attempt, no URL.
    expect(a.connectionErrors.length).toBeLessThanOrEqual(3);
    expect(a.connectionErrors.join('\n')).not.toContain(redis.url);

    // A second outage is said again.
    await redis.kill();
    await mode(a, 'fenced', 4_000);
    expect(said(/cannot be reached/)).toHaveLength(2);
    expect(said(/Redis answers again/)).toHaveLength(1);
  }, 18_000);

  // Redis lost its data while b had used the whole budget: b's sends are gone with the log.
  // Counting b as its share only (1) once let a record 2 more: 5 in a window of 4.
  it('after Redis lost its data, a server remembered but silent counts as having used it all until it says hello', async ({
    expect,
    onTestFinished,
  }) => {
    const { redis, server, oldLog } = await world(onTestFinished);
    const prefix = 's911:{t-silent}:';
    await oldLog(prefix);
    const a = server({ name: 'a', prefix, leaseMs: 3_000 });
    const b = server({ name: 'b', prefix, leaseMs: 3_000 });
    await Promise.all([mode(a, 'shared'), mode(b, 'shared')]);
    await until('a knows b', () => a.budget.status().live === 2);
    for (let i = 0; i < 3; i++) b.gate.release(ticketOf(expect, await b.gate.reserve(want(2))));
    b.die();
    await redis.command('FLUSHALL');

    // a's next ask finds an empty Redis: it says hello, remembering b, and settles.
    expect((await a.gate.reserve(want(2))).ok).toBe(false);
    await mode(a, 'settling', 2_000);
    expect(a.gate.ownLimit()).toBe(1);
    const refused = retryOf(expect, await a.gate.reserve(want(2)));
    // Asked again soon: b may say hello any moment.
    expect(refused).toBeLessThanOrEqual(Date.now() + 1_100);
    expect(Number(await redis.command('ZCARD', `${prefix}log:calls`))).toBe(0);

    // b is back: its hello puts its three sends back, and they fill the window.
    b.revive();
    await until(
      'b back in the log',
      async () => Number(await redis.command('ZCARD', `${prefix}log:calls`)) === 3,
    );
    retryOf(expect, await a.gate.reserve(want(2)));
    expect(Number(await redis.command('ZCARD', `${prefix}log:calls`))).toBe(3);
  }, 10_000);

  // A renew that reaches Redis late (after the server's command timed out, while its lease is
  // still live) once extended a lease the server already counted as lapsed: it sent on its
  // share while the others counted it as live. Leases are now an end the server chose.
  it('a server on its share never holds a lease Redis still counts as live (a late renew)', async ({
    expect,
    onTestFinished,
  }) => {
    const { redis, server, oldLog, redisNow, leaseOf, closers } = await world(onTestFinished);
    const prefix = 's911:{bug1}:';
    await oldLog(prefix);
    const link = await slowLink(redis.port);
    closers.push(() => link.close());
    // A lease longer than ioredis' command timeout (1 s), as in production (10 s).
    const a = server({ name: 'a', prefix, url: link.url, leaseMs: 3_000, renewMs: 1_000 });
    const b = server({ name: 'b', prefix });
    await Promise.all([mode(a, 'shared'), mode(b, 'shared')]);
    await until('both are seen', () => b.budget.status().live === 2);

    // a's link to Redis gets slow: its commands arrive 1.5 s late, after ioredis gave up on
    // them (1 s), yet they still run, and a renew or hello that lands extends a's lease. So
    // whenever a sends on its share, Redis must hold no live lease for it.
    link.lag(1_500);
    const deadline = Date.now() + 5_000;
    let onShare = 0;
    while (Date.now() < deadline) {
      const grant = await a.gate.reserve(want(3));
      if (grant.ok) {
        const lease = await leaseOf(prefix, 'a');
        const now = await redisNow();
        expect(lease === null || lease <= now).toBe(true);
        a.gate.release(grant.ticket);
        onShare++;
      }
      await sleep(50);
    }
    // The link heals: a is back on the shared budget, nothing lost.
    link.lag(0);
    await mode(a, 'shared', 6_000);
    // Every hello a sent over the slow link landed and renewed its lease, so a never had a
    // moment on its share: its calls waited, the others never counted a share it used.
    expect(onShare).toBe(0);
  }, 10_000);

  // Requests sent on the share while a hello waited for the connection were once marked as
  // logged when that hello answered, though it never carried them.
  it('what it sent on its share reaches the log with its hello, and nothing goes on the share while a hello is out', async ({
    expect,
    onTestFinished,
  }) => {
    const { server, oldLog, redis } = await world(onTestFinished);
    const prefix = 's911:{bug2}:';
    await oldLog(prefix);
    const a = server({ name: 'a', prefix });
    const b = server({ name: 'b', prefix });
    await Promise.all([mode(a, 'shared'), mode(b, 'shared')]);
    await until('both are seen', () => a.budget.status().live === 2);

    // a loses Redis: fenced, then local on its share (3 / 2 servers = 1), which it sends.
    a.die();
    await mode(a, 'local', 3_000);
    expect(a.gate.ownLimit()).toBe(1);
    const ticket = ticketOf(expect, await a.gate.reserve(want(3)));
    // The connection is back, and a's hello is on its way (slowly). Until it answers a sends
    // nothing on its share: Redis may count it live any moment, and this would be in no log.
    a.stall();
    a.revive();
    await until('a hello on its way', () => a.waiting() > 0);
    expect(await a.gate.reserve(want(3))).toEqual({ ok: false, retryAt: null });
    a.resume();
    await mode(a, 'shared', 3_000);
    a.gate.release(ticket);
    await sleep(50);
    const logged = Number(await redis.command('ZCARD', `${prefix}log:calls`));
    // b takes what the log says is free, while a's request is inside the window.
    let granted = 0;
    for (let i = 0; i < 4; i++) if ((await b.gate.reserve(want(3))).ok) granted++;
    expect({ logged, total: 1 + granted }).toEqual({ logged: 1, total: 3 });
  }, 8_000);

  // A hello that waited for the connection once read Redis' clock as if it had run halfway
  // through the wait: the offset was off by half the wait, and settling ended that much early.
  it('after a hello that waited for the connection, settling still lasts one window from the log birth', async ({
    expect,
    onTestFinished,
  }) => {
    const { server, oldLog, redis } = await world(onTestFinished);
    const prefix = 's911:{bug3}:';
    await oldLog(prefix);
    const a = server({ name: 'a', prefix });
    await mode(a, 'shared');
    a.die();
    await mode(a, 'local', 3_000);
    // Redis restarted empty meanwhile; the connection comes back a second after a's hello
    // began to wait for it (connectRedis waits up to 1.5 s).
    await redis.command('FLUSHALL');
    a.stall();
    a.revive();
    await until('a hello waits for the connection', () => a.waiting() > 0);
    await sleep(1_000);
    a.resume();
    await mode(a, 'settling', 3_000);
    const born = Number(await redis.command('HGET', `${prefix}meta`, 'born'));
    expect(a.budget.status().settledAt! - (born + CALLS.windowMs)).toBeGreaterThanOrEqual(-20);
  }, 8_000);
});
