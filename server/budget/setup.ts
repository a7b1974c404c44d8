/**
 * Turns `sharedBudget` (and the convar sonoran911_redisUrl) into a running SharedBudget, or
 * null when this server owns its key's budget alone.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../../shared/config/schema';
import type { KeyValueStore } from '../../shared/delivery/outbox';
import type { Timers } from '../../shared/delivery/scheduler';
import { connectRedis, type RedisConnection } from './redis';
import { SharedBudget } from './shared';

/** What config.json accepts for sharedBudget.redisUrl; the convar is held to the same. */
const REDIS_URL = /^rediss?:\/\/\S+$/;

/** Where the number of servers last seen is kept, for a start while Redis is away. */
const SERVERS_KEY = 'sharedBudget:servers';

export interface SharedBudgetSetup {
  budget: SharedBudget;
  /** For the ready line: the name and where the URL came from (never the URL). */
  describe: string;
  stop(): Promise<void>;
}

export function setUpSharedBudget(deps: {
  config: Config;
  convar(name: string): string;
  /** Keeps the URL (and its password) out of every log line and message. */
  secret(...values: string[]): void;
  apiKey: string;
  store: KeyValueStore;
  now(): number;
  timers: Timers;
  log: { info(message: string): void; warn(message: string): void; error(message: string): void };
}): SharedBudgetSetup | null {
  const settings = deps.config.sharedBudget;
  if (!settings) return null;
  const rate = deps.config.rateLimit;
  let fromConvar = deps.convar('sonoran911_redisUrl').trim();
  if (fromConvar !== '' && !REDIS_URL.test(fromConvar)) {
    // Named, never shown: it may hold a password.
    deps.secret(fromConvar);
    deps.log.error(
      `convar sonoran911_redisUrl is not a Redis URL: expected one starting with redis:// or rediss://, like "redis://:password@10.0.0.5:6379"${settings.redisUrl ? '; sharedBudget.redisUrl from config.json is used instead' : ''}`,
    );
    fromConvar = '';
  }
  const url = fromConvar || settings.redisUrl || '';
  if (url) deps.secret(url, ...urlPassword(url));
  let connection: RedisConnection | null = null;
  if (url === '') {
    deps.log.error(
      'sharedBudget has no Redis URL: set the convar sonoran911_redisUrl (or sharedBudget.redisUrl); until then this server sends on its share of the budget alone',
    );
  } else {
    connection = connectRedis(url, () => undefined, { cluster: settings.cluster });
  }
  // The key's hash names its keys, so the key itself never reaches Redis; the hash tag keeps
  // them in one slot of a Cluster.
  const hash = createHash('sha256').update(deps.apiKey).digest('hex').slice(0, 16);
  const budget = new SharedBudget(
    {
      redis: connection ?? {
        run: () => Promise.reject(new Error('no Redis URL is set')),
      },
      now: deps.now,
      timers: deps.timers,
      random: Math.random,
      log: deps.log,
      servers: {
        load() {
          const n = Number(deps.store.get(SERVERS_KEY));
          return Number.isInteger(n) && n > 0 ? n : null;
        },
        save: (count) => deps.store.set(SERVERS_KEY, String(count)),
      },
    },
    {
      name: settings.name,
      reserve: settings.reserve,
      leaseMs: settings.leaseSeconds * 1000,
      keyPrefix: `s911:{${hash}}:`,
    },
  );
  return {
    budget,
    describe: `shared budget as "${settings.name}" through Redis (URL from ${fromConvar ? 'convar sonoran911_redisUrl' : url ? 'config.json' : 'nowhere: see above'}): ${rate.requests - settings.reserve} call and ${rate.noteRequests - settings.reserve} note request(s) a window across the servers on the key, ${settings.reserve} held back`,
    async stop() {
      await budget.stop();
      await connection?.close();
    },
  };
}

/** The password of a redis:// URL, so a log line can never show it even decoded. */
function urlPassword(url: string): string[] {
  const match = /^rediss?:\/\/([^@/]*)@/.exec(url);
  if (!match) return [];
  const userinfo = match[1]!;
  const secret = userinfo.split(':').slice(1).join(':') || userinfo;
  if (!secret) return [];
  try {
    return [userinfo, secret, decodeURIComponent(secret)];
  } catch {
    return [userinfo, secret];
  }
}
