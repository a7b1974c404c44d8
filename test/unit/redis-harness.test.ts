import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisError, type RedisProcess, startRedis } from '../../sandbox/support/redis';

/** Whether a process with this pid exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('ESRCH');
    return false;
  }
}

/** The server's working directory, where it would write a dump or an append-only file. */
async function dirOf(redis: RedisProcess): Promise<string> {
  const [, dir] = (await redis.command('CONFIG', 'GET', 'dir')) as [string, string];
  return dir;
}

describe('sandbox/support/redis: a real redis-server per test', () => {
  const started: RedisProcess[] = [];
  const start = async () => {
    const redis = await startRedis();
    started.push(redis);
    return redis;
  };
  afterAll(async () => {
    await Promise.all(started.map((redis) => redis.stop()));
  });

  it('starts on a loopback port of its own, without persistence, and answers commands', async () => {
    const redis = await start();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.port).not.toBe(6379);
    expect(alive(redis.pid)).toBe(true);

    expect(await redis.command('PING')).toBe('PONG');
    expect(await redis.command('SET', 'greeting', 'héllo wörld')).toBe('OK');
    expect(await redis.command('GET', 'greeting')).toBe('héllo wörld');
    expect(await redis.command('GET', 'missing')).toBeNull();
    expect(await redis.command('INCRBY', 'n', '41')).toBe(41);
    expect(await redis.command('ZADD', 'z', '2', 'b', '1', 'a')).toBe(2);
    expect(await redis.command('ZRANGE', 'z', '0', '-1', 'WITHSCORES')).toEqual([
      'a',
      '1',
      'b',
      '2',
    ]);
    expect(await redis.command('ZCARD', 'z')).toBe(2);
    expect(((await redis.command('KEYS', '*')) as string[]).sort()).toEqual(['greeting', 'n', 'z']);
    // A value with CRLF and a multi-byte character in it comes back whole.
    const awkward = 'line one\r\nline two: ✓';
    await redis.command('SET', 'awkward', awkward);
    expect(await redis.command('GET', 'awkward')).toBe(awkward);

    expect(await redis.command('CONFIG', 'GET', 'port')).toEqual(['port', `${redis.port}`]);
    expect(await redis.command('CONFIG', 'GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    expect(await redis.command('CONFIG', 'GET', 'save')).toEqual(['save', '']);
    expect(await redis.command('CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'no']);
  });

  it('rejects an error reply with a RedisError carrying the server message', async () => {
    const redis = await start();
    await redis.command('SET', 's', 'text');
    const error = await redis.command('INCR', 's').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisError);
    expect((error as Error).message).toMatch(/^ERR value is not an integer/);
    await expect(redis.command('NO-SUCH-COMMAND')).rejects.toThrow(/unknown command/);
  });

  it('kill crashes it: connections are refused; restart brings it back empty on the same port', async () => {
    const redis = await start();
    const { port, pid } = redis;
    await redis.command('SET', 'k', 'v');

    await redis.kill();
    expect(alive(pid)).toBe(false);
    await expect(redis.command('PING')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await redis.kill(); // already down: nothing to do

    await redis.restart();
    expect(redis.port).toBe(port);
    expect(redis.url).toBe(`redis://127.0.0.1:${port}`);
    expect(redis.pid).not.toBe(pid);
    expect(alive(redis.pid)).toBe(true);
    expect(await redis.command('GET', 'k')).toBeNull();
    expect(await redis.command('DBSIZE')).toBe(0);
  });

  it('restart of a running server also starts empty, on the same port', async () => {
    const redis = await start();
    const { port, pid } = redis;
    await redis.command('SET', 'k', 'v');
    await redis.restart();
    expect(alive(pid)).toBe(false);
    expect(redis.port).toBe(port);
    expect(await redis.command('DBSIZE')).toBe(0);
  });

  it('stop leaves no process and no directory behind', async () => {
    const redis = await start();
    const { pid } = redis;
    const dir = await dirOf(redis);
    expect(existsSync(dir)).toBe(true);

    await redis.stop();
    expect(alive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await expect(redis.command('PING')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await redis.stop(); // already stopped: nothing to do
  });

  it('servers started side by side get their own ports and their own data', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    expect(a!.port).not.toBe(b!.port);
    await a!.command('SET', 'who', 'a');
    expect(await b!.command('GET', 'who')).toBeNull();
  });
});
