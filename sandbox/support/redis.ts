/**
 * A local redis-server for `npm start -- --servers N`: on a free loopback port, with a
 * throwaway directory and no persistence, stopped when the sandbox exits (however it exits: a
 * watchdog shell kills it when the sandbox's pipe to it closes). `kill()` is a crash (the data
 * is lost) and `start()` brings it back, empty, on the same port, so the servers reconnect to
 * the URL they have.
 *
 * node: modules only; the sandbox never imports from test/ (test/support/redis.ts is the
 * tests' own, richer copy).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface SandboxRedis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Whether a redis-server runs now. */
  readonly running: boolean;
  /** SIGKILL: a crash, the data is lost. No-op if down. */
  kill(): Promise<void>;
  /** Starts it again, empty, on the same port. No-op if it runs. */
  start(): Promise<void>;
  /** SIGTERM and wait; the directory is removed. */
  stop(): Promise<void>;
}

/** redis-server on PATH, else where Debian and Homebrew put it; null when missing. */
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

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let hooked = false;
function exitHook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}

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

/** True when something on the port answers PING with PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.write('PING\r\n');
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Running {
  child: ChildProcess;
  dog: ChildProcess;
  dir: string;
}

async function launch(binary: string, port: number): Promise<Running> {
  exitHook();
  const dir = mkdtempSync(join(tmpdir(), 'sonoran911-sandbox-redis-'));
  dirs.add(dir);
  const child = spawn(
    binary,
    [
      ...['--port', `${port}`, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--dir', dir, '--daemonize', 'no'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.add(child);
  child.once('exit', () => live.delete(child));
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  // Killed with the server in the normal case; kills it if this process dies without an
  // exit hook (SIGKILL): its stdin reaches end-of-file when this process is gone.
  const dog = spawn(
    'sh',
    [
      '-c',
      'read _ || true; kill -9 "$1" 2>/dev/null; rm -rf "$2"',
      'redis-watchdog',
      `${child.pid}`,
      dir,
    ],
    { stdio: ['pipe', 'ignore', 'ignore'] },
  );
  dog.on('error', () => {});
  dog.unref();
  (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  live.add(dog);
  dog.once('exit', () => live.delete(dog));

  const deadline = Date.now() + 10_000;
  for (;;) {
    const down = spawnError !== undefined || child.exitCode !== null || child.signalCode !== null;
    if (down || Date.now() > deadline) {
      child.kill('SIGKILL');
      if (!spawnError) await exited(child);
      dog.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
      const why = spawnError?.message ?? (down ? 'exited' : 'not ready in 10 s');
      throw Object.assign(new Error(`redis-server on port ${port}: ${why}\n${log.trim()}`), {
        log,
      });
    }
    if (await ping(port)) return { child, dog, dir };
    await sleep(20);
  }
}

async function halt(running: Running, signal: NodeJS.Signals): Promise<void> {
  const { child, dog, dir } = running;
  child.kill(signal);
  const escalate = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited(child);
  clearTimeout(escalate);
  dog.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Starts redis-server (see `findRedisServer`) on a free loopback port. */
export async function startRedis(binary: string): Promise<SandboxRedis> {
  let current: Running | undefined;
  let port = 0;
  for (let attempt = 1; !current; attempt++) {
    port = await freePort();
    try {
      current = await launch(binary, port);
    } catch (error) {
      const inUse = /address already in use/i.test((error as { log?: string }).log ?? '');
      if (!inUse || attempt >= 5) throw error;
    }
  }
  const down = async (signal: NodeJS.Signals) => {
    if (!current) return;
    const stopping = current;
    current = undefined;
    await halt(stopping, signal);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get running() {
      return current !== undefined;
    },
    kill: () => down('SIGKILL'),
    stop: () => down('SIGTERM'),
    async start() {
      if (current) return;
      for (let attempt = 1; ; attempt++) {
        try {
          current = await launch(binary, port);
          return;
        } catch (error) {
          const inUse = /address already in use/i.test((error as { log?: string }).log ?? '');
          if (!inUse || attempt >= 10) throw error;
          await sleep(100);
        }
      }
    },
  };
}
