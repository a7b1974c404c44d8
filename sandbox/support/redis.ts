/**
 * A real, throwaway redis-server, one per `startRedis()`: on a free loopback port, with a
 * throwaway directory and no persistence, so every start (and restart) is empty. Two callers:
 *
 * - the tests (test/unit, test/e2e): test files running in parallel each get their own server;
 *   none ever touches a system Redis on 6379. `npm test` installs the binary when it is missing
 *   (scripts/ensure-redis.mjs).
 * - the sandbox (`npm start -- --servers N`): `findRedisServer()` says whether one is
 *   installed (the sandbox runs without a shared budget when not), `kill()` is a crash (the
 *   data is lost) and `start()` brings it back, empty, on the same port, so the servers
 *   reconnect to the URL they have.
 *
 * No server is left behind however this process ends: an exit hook kills them, and a watchdog
 * shell kills each when this process dies without running it (SIGKILL).
 *
 * Dependency-free on purpose (node: modules only): a test that checks our Redis client must not
 * lean on that client to see what Redis holds. It lives in sandbox/ because the sandbox never
 * imports from test/, while the tests may import from sandbox/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface RedisOptions {
  /** The redis-server to run; default `findRedisServer()`, and an error saying what to install. */
  binary?: string;
  /** Extra redis-server arguments, e.g. `['--maxmemory', '1mb']`. */
  args?: string[];
  /** How long a start (or restart) may take before it fails; default 10 s. */
  startTimeoutMs?: number;
}

export interface RedisProcess {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The loopback port; the same across `restart()` and `start()`. */
  readonly port: number;
  /** The pid of the current (or, once stopped, the last) redis-server process. */
  readonly pid: number;
  /** Whether a redis-server runs now. */
  readonly running: boolean;
  /** SIGTERM, then waits for the exit (SIGKILL after 5 s); the data is gone. No-op if down. */
  stop(): Promise<void>;
  /** SIGKILL, then waits for the exit: a crash, the data is lost. No-op if down. */
  kill(): Promise<void>;
  /** Starts it again, empty, on the same port. No-op if it runs. */
  start(): Promise<void>;
  /** Stops the server if it runs, then starts it again, empty, on the same port. */
  restart(): Promise<void>;
  /**
   * Sends one command on a fresh connection and returns the reply: simple strings and bulk
   * strings as strings, integers as numbers (bigint past 2^53), nil as null, arrays as arrays
   * (an error inside one as a `RedisError`). An error reply rejects with a `RedisError`; a
   * server that is down rejects with the connect error (`code` `ECONNREFUSED`).
   */
  command(...args: string[]): Promise<unknown>;
}

/** An error reply from Redis, e.g. `ERR unknown command`. */
export class RedisError extends Error {
  override name = 'RedisError';
}

const STOP_GRACE_MS = 5_000;
const COMMAND_TIMEOUT_MS = 5_000;

// Every redis-server (and its watchdog) still running, and their directories: killed and
// removed when this process exits, for a caller that forgot `stop()`.
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/**
 * redis-server on PATH, else where Debian and Homebrew put it (a trimmed PATH may lack
 * /usr/bin); null when it is not installed.
 */
export function findRedisServer(): string | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/bin', '/usr/sbin', '/usr/local/bin', '/opt/homebrew/bin']) {
    const path = join(dir, 'redis-server');
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

function redisServerBinary(): string {
  const binary = findRedisServer();
  if (binary) return binary;
  throw new Error(
    'redis-server not found: `npm test` installs it (scripts/ensure-redis.mjs), or run ' +
      '`sudo apt-get install redis-server`',
  );
}

/** A port the kernel just handed out on 127.0.0.1, free again once this resolves. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function encode(args: string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''));
}

/** Parses one RESP2 reply at `start`; undefined while incomplete. */
function parse(buf: Buffer, start: number): { value: unknown; end: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', start);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[start]!);
  const line = buf.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RedisError(line), end: next };
    case ':': {
      const n = Number(line);
      return { value: Number.isSafeInteger(n) ? n : BigInt(line), end: next };
    }
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buf.length < next + length + 2) return undefined;
      return { value: buf.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: unknown[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
  }
}

/** One command on a fresh connection to 127.0.0.1:`port`; see `RedisProcess.command`. */
export function redisCommand(port: number, args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let settled = false;
    const socket = connect({ port, host: '127.0.0.1' });
    const settle = (error: unknown, value?: unknown) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) reject(error);
      else resolve(value);
    };
    socket.setTimeout(COMMAND_TIMEOUT_MS, () =>
      settle(new Error(`redis ${args[0]} on port ${port}: no reply in ${COMMAND_TIMEOUT_MS} ms`)),
    );
    socket.on('error', (error) => settle(error));
    socket.on('close', () => settle(new Error(`redis ${args[0]}: connection closed, no reply`)));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let reply: ReturnType<typeof parse>;
      try {
        reply = parse(buf, 0);
      } catch (error) {
        settle(error);
        return;
      }
      if (!reply) return;
      if (reply.value instanceof RedisError) settle(reply.value);
      else settle(undefined, reply.value);
    });
    socket.write(encode(args));
  });
}

/**
 * Resolves when `child` has exited (at once if it already has). The wait holds a timer of its
 * own: the servers and watchdogs are unref'd, so without it a process with nothing else to do
 * (the sandbox at the end of a script, stopping its Redis) would exit in the middle of the wait.
 */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hold = setInterval(() => {}, 1_000);
    child.once('exit', () => {
      clearInterval(hold);
      resolve();
    });
  });
}

/**
 * A watchdog for the server `pid` working in `dir`: a shell that waits for end-of-file on a
 * pipe from this process, which only comes when this process dies, however it dies (a
 * SIGKILLed test worker or sandbox runs no exit hook), and then kills the server and removes
 * `dir`. Stopped with the server in the normal case.
 */
function watchdog(pid: number, dir: string): ChildProcess {
  const script = 'read _ || true; kill -9 "$1" 2>/dev/null; rm -rf "$2"';
  const dog = spawn('sh', ['-c', script, 'redis-watchdog', `${pid}`, dir], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  dog.on('error', () => {}); // the exit hook still covers a normal exit
  // Neither keeps this process alive; waits hold their own timers.
  dog.unref();
  (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  live.add(dog);
  dog.once('exit', () => live.delete(dog));
  return dog;
}

interface Running {
  child: ChildProcess;
  dog: ChildProcess;
  dir: string;
}

/** Starts redis-server on `port`; rejects with its log if it exits or stays unready. */
async function launch(binary: string, port: number, options: RedisOptions): Promise<Running> {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'sonoran911-redis-'));
  dirs.add(dir);
  const args = [
    ...['--port', `${port}`, '--bind', '127.0.0.1', '--protected-mode', 'no'],
    // Nothing written anywhere: a kill or a stop loses everything, a restart starts empty.
    ...['--save', '', '--appendonly', 'no', '--dir', dir],
    ...['--daemonize', 'no', ...(options.args ?? [])],
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  child.once('exit', () => live.delete(child));
  // A server a caller forgets to stop must not keep its process alive; the exit hook kills it.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
  const dog = child.pid === undefined ? undefined : watchdog(child.pid, dir);

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  for (;;) {
    const down = spawnError ?? (child.exitCode !== null || child.signalCode !== null);
    if (down || Date.now() > deadline) {
      child.kill('SIGKILL');
      // A binary that failed to spawn may never report an exit.
      if (!spawnError) await exited(child);
      dog?.kill('SIGKILL');
      removeDir(dir);
      const why = spawnError
        ? spawnError.message
        : down
          ? `exited (${child.exitCode ?? child.signalCode})`
          : 'not ready in time';
      throw Object.assign(new Error(`redis-server on port ${port}: ${why}\n${log.trim()}`), {
        log,
      });
    }
    try {
      if ((await redisCommand(port, ['PING'])) === 'PONG') break;
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  return { child, dog: dog!, dir };
}

/** Stops `running` with `signal`, waits for the exit, removes its directory. */
async function halt(running: Running, signal: NodeJS.Signals): Promise<void> {
  const { child, dog, dir } = running;
  child.kill(signal);
  const escalate = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited(child);
  clearTimeout(escalate);
  dog.kill('SIGKILL');
  await exited(dog);
  removeDir(dir);
}

const portInUse = (error: unknown) =>
  /address already in use/i.test((error as { log?: string }).log ?? '');

/** Starts a redis-server of its own; see `RedisProcess`. */
export async function startRedis(options: RedisOptions = {}): Promise<RedisProcess> {
  const binary = options.binary ?? redisServerBinary();
  // The kernel's free port can be taken again before redis-server binds it (another test
  // file, a client's ephemeral port): then try another.
  let running: Running | undefined;
  let port = 0;
  for (let attempt = 1; !running; attempt++) {
    port = await freePort();
    try {
      running = await launch(binary, port, options);
    } catch (error) {
      if (!portInUse(error) || attempt >= 5) throw error;
    }
  }
  let pid = running.child.pid!;
  let current: Running | undefined = running;
  // One operation at a time: a stop racing a restart would leave a server behind.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    const result = queue.then(op);
    queue = result.catch(() => {});
    return result;
  };
  const down = (signal: NodeJS.Signals) => async () => {
    if (!current) return;
    const stopping = current;
    current = undefined;
    await halt(stopping, signal);
  };
  const up = async () => {
    if (current) return;
    // Same port on purpose (clients reconnect to the URL they had); if something grabbed
    // it meanwhile, wait a little for it to go.
    for (let attempt = 1; ; attempt++) {
      try {
        current = await launch(binary, port, options);
        pid = current.child.pid!;
        return;
      } catch (error) {
        if (!portInUse(error) || attempt >= 10) throw error;
        await sleep(100);
      }
    }
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return pid;
    },
    get running() {
      return current !== undefined;
    },
    stop: () => serial(down('SIGTERM')),
    kill: () => serial(down('SIGKILL')),
    start: () => serial(up),
    restart: () =>
      serial(async () => {
        await down('SIGTERM')();
        await up();
      }),
    command: (...args: string[]) => redisCommand(port, args),
  };
}

export interface RedisCluster {
  /** The first node's URL: a cluster client starts from it and learns the rest. */
  readonly url: string;
  readonly nodes: readonly RedisProcess[];
  /** The node that holds `key`'s slot. */
  owner(key: string): Promise<RedisProcess>;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of `size` masters on free loopback ports, no replicas, nothing saved. Made
 * with CLUSTER commands (ADDSLOTSRANGE, MEET) rather than redis-cli, which a machine may lack.
 */
export async function startRedisCluster(
  size = 3,
  options: RedisOptions = {},
): Promise<RedisCluster> {
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < size; i++) {
      nodes.push(
        await startRedis({
          ...options,
          args: [
            ...(options.args ?? []),
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${i}.conf`,
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    const SLOTS = 16_384;
    for (const [i, node] of nodes.entries()) {
      const first = Math.floor((SLOTS * i) / size);
      const last = Math.floor((SLOTS * (i + 1)) / size) - 1;
      await node.command('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last));
    }
    for (const node of nodes.slice(1)) {
      await node.command('CLUSTER', 'MEET', '127.0.0.1', String(nodes[0]!.port));
    }
    // Every node must see every slot covered before a client may rely on it.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const states = await Promise.all(nodes.map((n) => n.command('CLUSTER', 'INFO')));
      if (states.every((s) => /cluster_state:ok/.test(String(s)))) break;
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not come up in 15 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
  return {
    url: nodes[0]!.url,
    nodes,
    async owner(key) {
      const slot = Number(await nodes[0]!.command('CLUSTER', 'KEYSLOT', key));
      const ranges = (await nodes[0]!.command('CLUSTER', 'SLOTS')) as [
        number,
        number,
        [string, number],
      ][];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      const port = Number(range?.[2][1]);
      const node = nodes.find((n) => n.port === port);
      if (!node) throw new Error(`no node holds slot ${slot}`);
      return node;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
