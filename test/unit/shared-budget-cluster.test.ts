/**
 * The shared budget on a real Redis Cluster (three masters): every key of a key's budget is in
 * one hash slot, and with `cluster: true` the client follows it to the node that holds it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../sandbox/support/prng';
import { type RedisCluster, startRedisCluster } from '../../sandbox/support/redis';
import { connectRedis, type RedisConnection } from '../../server/budget/redis';
import { SharedBudget } from '../../server/budget/shared';
import { CALLS, timers, until } from '../support/budget';

let cluster: RedisCluster | null = null;
const budgets: SharedBudget[] = [];
const connections: RedisConnection[] = [];
afterEach(async () => {
  await Promise.all(budgets.splice(0).map((b) => b.stop()));
  await Promise.all(connections.splice(0).map((c) => c.close()));
  await cluster?.stop();
  cluster = null;
});

function budget(name: string, prefix: string, asCluster: boolean) {
  const connection = connectRedis(cluster!.url, () => undefined, { cluster: asCluster });
  connections.push(connection);
  const lines: string[] = [];
  const b = new SharedBudget(
    {
      redis: connection,
      now: Date.now,
      timers,
      random: mulberry32(name.length),
      log: { info: (m) => lines.push(m), warn: (m) => lines.push(m) },
      servers: { load: () => null, save: () => {} },
    },
    { name, reserve: 1, keyPrefix: prefix, leaseMs: 1_000, renewMs: 300, pollMs: 100 },
  );
  const gate = b.lane(CALLS);
  budgets.push(b);
  b.start();
  return { budget: b, gate, lines };
}

describe('shared budget on a Redis Cluster', () => {
  it('keeps every key in one slot on one node, and shares the budget through it', async () => {
    cluster = await startRedisCluster(3);
    // A key whose slot is not on the node the URL names: the client must follow it.
    let prefix = '';
    for (let i = 0; ; i++) {
      prefix = `s911:{c${i}}:`;
      if ((await cluster.owner(`${prefix}meta`)) !== cluster.nodes[0]) break;
    }
    const owner = await cluster.owner(`${prefix}meta`);
    // An old log: the servers join it shared, no settling window.
    await owner.command('HSET', `${prefix}meta`, 'epoch', 'old', 'born', `${Date.now() - 60_000}`);
    const a = budget('a', prefix, true);
    const b = budget('b', prefix, true);
    await until('both shared', () => [a, b].every((s) => s.budget.status().mode === 'shared'));
    // 4 a window, 1 held back: three slots across both servers, then "wait".
    const grants = [];
    for (const s of [a, b, a, b])
      grants.push(await s.gate.reserve({ priority: 2, since: Date.now() }));
    expect(grants.map((g) => g.ok)).toEqual([true, true, true, false]);
    // Everything is on the owner, nothing elsewhere, all under one hash tag.
    const keys = (await owner.command('KEYS', '*')) as string[];
    expect(keys).toEqual(
      expect.arrayContaining([`${prefix}meta`, `${prefix}servers`, `${prefix}log:calls`]),
    );
    expect(keys.every((k) => k.startsWith(prefix))).toBe(true);
    for (const node of cluster.nodes.filter((n) => n !== owner)) {
      expect(await node.command('DBSIZE')).toBe(0);
    }
  }, 30_000);

  it('a plain client on a Cluster never sends on a budget it cannot read (cluster: false)', async () => {
    cluster = await startRedisCluster(3);
    let prefix = '';
    for (let i = 0; ; i++) {
      prefix = `s911:{d${i}}:`;
      if ((await cluster.owner(`${prefix}meta`)) !== cluster.nodes[0]) break;
    }
    const a = budget('a', prefix, false);
    // The node answers MOVED: the budget cannot be read, so this server waits out its lease
    // and then goes on its share, and says why.
    await until('fenced', () => a.budget.status().mode === 'fenced');
    expect(a.lines.join('\n')).toMatch(/Redis cannot be reached \(MOVED/);
    expect(a.gate.ownLimit()).toBe(0);
  }, 30_000);
});
