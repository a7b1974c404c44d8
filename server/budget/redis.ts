/**
 * The Redis connection of a shared budget: ioredis, bundled into dist/server.js by esbuild.
 * Tuned to fail fast rather than queue: a budget that cannot be read must say so at once (the
 * server then sends on its share), never hold a call behind a command waiting to be resent.
 */
import Redis, { Cluster } from 'ioredis';
import { BUDGET_SCRIPT } from './script';
import type { BudgetRedis } from './shared';

/** ioredis' refusal of a command it could not write (no offline queue). */
const OFFLINE = /enableOfflineQueue|isn't writeable/;

/**
 * Marks a failure as one where the command never reached Redis: a lease it asked for was
 * never stored, so it need not be waited out (shared.ts).
 */
function unsent(err: unknown): Error {
  const error = err instanceof Error ? err : new Error(String(err));
  return Object.assign(error, { unsent: true });
}

/** How long a command waits for a connection being made before it fails. */
const CONNECT_WAIT_MS = 1_500;

export interface RedisConnection extends BudgetRedis {
  ready(): boolean;
  /** Closes the connection for good (the resource stops). */
  close(): Promise<void>;
}

export function connectRedis(
  url: string,
  /** A connection problem, once per change (the URL never appears in it). */
  onError: (message: string) => void,
  /** The URL is one node of a Redis Cluster. */
  options: { cluster?: boolean } = {},
): RedisConnection {
  // Reconnect forever, at most every 2 s: the heartbeat notices when it is back.
  const retry = (times: number) => Math.min(times * 200, 2_000);
  const client = options.cluster
    ? new Cluster([nodeOf(url)], {
        enableOfflineQueue: false,
        clusterRetryStrategy: retry,
        redisOptions: {
          ...secretsOf(url),
          maxRetriesPerRequest: 0,
          commandTimeout: 1_000,
          connectTimeout: 2_000,
        },
      })
    : new Redis(url, {
        // No offline queue and no resend: a command made while the connection is down fails now.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 1_000,
        connectTimeout: 2_000,
        retryStrategy: retry,
      });
  let last = '';
  // Without a listener ioredis prints every failed reconnect; one line per change is enough.
  client.on('error', (err: Error) => {
    const message = err.message.replace(/\/\/[^@/]*@/g, '//***@');
    if (message !== last) onError(message);
    last = message;
  });
  client.on('ready', () => {
    last = '';
  });
  // Several commands may wait for the same connection.
  client.setMaxListeners(100);
  client.defineCommand('sonoran911Budget', { lua: BUDGET_SCRIPT });
  const budget = client as unknown as {
    sonoran911Budget(numKeys: number, ...rest: (string | number)[]): Promise<unknown>;
  };
  /** Resolves once connected; rejects with the last connection error if that takes too long. */
  const connected = (): Promise<void> => {
    if (client.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        client.off('ready', onReady);
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => done();
      const timer = setTimeout(
        () => done(new Error(last || `not connected (${client.status})`)),
        CONNECT_WAIT_MS,
      );
      client.on('ready', onReady);
    });
  };
  return {
    async run(keys, args) {
      try {
        await connected();
      } catch (err) {
        throw unsent(err);
      }
      try {
        return await budget.sonoran911Budget(keys.length, ...keys, ...args);
      } catch (err) {
        // Refused before it was written (the connection dropped just now): Redis never ran it.
        throw err instanceof Error && OFFLINE.test(err.message) ? unsent(err) : err;
      }
    },
    ready: () => client.status === 'ready',
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

/** The seed node of a cluster URL. */
function nodeOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 6379) };
}

/** What a cluster client passes to every node: the URL's user, password and TLS. */
function secretsOf(url: string): { username?: string; password?: string; tls?: object } {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
