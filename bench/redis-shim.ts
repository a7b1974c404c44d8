/**
 * Redis for the shared-budget bench, on the simulated clock: the real BUDGET_SCRIPT (its text
 * unchanged) runs in a real Lua VM (wasmoon, Lua 5.4) against a small in-memory Redis that
 * knows exactly the commands the script uses. A real redis-server cannot follow a fake clock
 * (TIME), and 25 simulated minutes must take seconds.
 *
 * Redis runs scripts in Lua 5.1, where every number is a double; 5.4 has integers and floats,
 * and a float concatenated prints "1700000000000.0". The script stays exact on 5.4 because
 * every number it formats starts as an integer: TIME answers integer strings (as Redis does),
 * so `tonumber(t[1]) * 1000 + math.floor(...)` is an integer, and so is every sum with an
 * integer argument. The glue follows Redis' own conversions:
 * - arguments to redis.call: strings as they are, numbers as "%.17g" (Redis before 7.2; 7.2's
 *   shortest form is the same digits for every whole number the script passes);
 * - replies to redis.call: integer -> number (an integer, as a 5.1 double holding a whole
 *   number would print), bulk -> string, nil -> false, array -> table, error -> raised;
 * - the script's reply: number -> integer (truncated toward zero), string -> bulk, table ->
 *   array up to its first nil ({err = ...} an error, {ok = ...} a status), true -> 1, false
 *   and nil -> nil. As ioredis hands them to JS: numbers, strings, arrays, null.
 */
import { createRequire } from 'node:module';
import type { LuaEngine, LuaFactory } from 'wasmoon';
import { BUDGET_SCRIPT } from '../server/budget/script';
import type { BudgetRedis } from '../server/budget/shared';
import type { SimClock } from './sim';

/** Redis' clock is not the servers': its TIME is this far ahead of the simulated clock. */
export const REDIS_EPOCH_MS = 1_700_000_000_000;

type Value = string | number | null | Value[];

class RedisError extends Error {}

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

/** The part of Redis the budget script uses, in memory. Empty collections are deleted, as in Redis. */
export class MemoryRedis {
  private readonly hashes = new Map<string, Map<string, string>>();
  private readonly zsets = new Map<string, Map<string, number>>();
  /** Commands run, by name. */
  readonly counts = new Map<string, number>();
  /**
   * Numbers the script wrote that are not plain integers ("1.7e+12", "1700000000000.0"): what
   * Lua 5.4 would print for a float where 5.1 prints an integer. The bench expects none.
   */
  readonly oddNumbers: string[] = [];

  constructor(private readonly nowMs: () => number) {}

  command(name: string, args: string[]): Value {
    const cmd = name.toUpperCase();
    this.counts.set(cmd, (this.counts.get(cmd) ?? 0) + 1);
    const need = (n: number) => {
      if (args.length < n) throw new RedisError(`ERR wrong number of arguments for '${name}'`);
    };
    switch (cmd) {
      case 'TIME': {
        const us = Math.floor(this.nowMs() * 1000);
        return [String(Math.floor(us / 1_000_000)), String(us % 1_000_000)];
      }
      case 'HGET':
        need(2);
        return this.hash(args[0]!)?.get(args[1]!) ?? null;
      case 'HSET': {
        need(3);
        this.watch(args.slice(2).filter((_, k) => k % 2 === 0));
        if ((args.length - 1) % 2 !== 0)
          throw new RedisError(`ERR wrong number of arguments for '${name}'`);
        const h = this.hash(args[0]!, true)!;
        let added = 0;
        for (let i = 1; i < args.length; i += 2) {
          if (!h.has(args[i]!)) added++;
          h.set(args[i]!, args[i + 1]!);
        }
        return added;
      }
      case 'HSETNX': {
        need(3);
        this.watch([args[2]!]);
        const h = this.hash(args[0]!, true)!;
        if (h.has(args[1]!)) return 0;
        h.set(args[1]!, args[2]!);
        return 1;
      }
      case 'HDEL': {
        need(2);
        const h = this.hash(args[0]!);
        if (!h) return 0;
        let n = 0;
        for (const f of args.slice(1)) if (h.delete(f)) n++;
        if (h.size === 0) this.hashes.delete(args[0]!);
        return n;
      }
      case 'HEXISTS':
        need(2);
        return this.hash(args[0]!)?.has(args[1]!) ? 1 : 0;
      case 'HGETALL':
        need(1);
        return [...(this.hash(args[0]!) ?? [])].flat();
      case 'ZADD':
        return this.zadd(args);
      case 'ZREM': {
        need(2);
        const z = this.zset(args[0]!);
        if (!z) return 0;
        let n = 0;
        for (const m of args.slice(1)) if (z.delete(m)) n++;
        if (z.size === 0) this.zsets.delete(args[0]!);
        return n;
      }
      case 'ZCARD':
        need(1);
        return this.zset(args[0]!)?.size ?? 0;
      case 'ZRANGE': {
        need(3);
        const rest = args.slice(3).map((a) => a.toUpperCase());
        if (rest.some((a) => a !== 'WITHSCORES')) throw new RedisError('ERR syntax error');
        const start = integer(args[1]!);
        const stop = integer(args[2]!);
        const sorted = this.sorted(args[0]!);
        const len = sorted.length;
        const from = Math.max(0, start < 0 ? len + start : start);
        const to = Math.min(len - 1, stop < 0 ? len + stop : stop);
        const out: string[] = [];
        for (let i = from; i <= to; i++) {
          const [member, score] = sorted[i]!;
          out.push(member);
          if (rest.length > 0) out.push(formatScore(score));
        }
        return out;
      }
      case 'ZREMRANGEBYSCORE': {
        need(3);
        const z = this.zset(args[0]!);
        const min = bound(args[1]!);
        const max = bound(args[2]!);
        if (!z) return 0;
        let n = 0;
        for (const [member, score] of z) {
          const above = min.open ? score > min.value : score >= min.value;
          const below = max.open ? score < max.value : score <= max.value;
          if (above && below) {
            z.delete(member);
            n++;
          }
        }
        if (z.size === 0) this.zsets.delete(args[0]!);
        return n;
      }
      default:
        throw new RedisError(`ERR unknown command '${name}' (not in the bench's Redis)`);
    }
  }

  /** Every number in these values (e.g. "expiry:count") must be written as an integer. */
  private watch(values: string[]): void {
    for (const v of values) {
      const parts = v.split(':');
      if (parts.some((p) => /^-?\d+(\.\d*)?(e[+-]?\d+)?$/i.test(p) && /[.e]/i.test(p)))
        this.oddNumbers.push(v);
    }
  }

  private zadd(args: string[]): number {
    if (args.length < 3) throw new RedisError("ERR wrong number of arguments for 'zadd'");
    const key = args[0]!;
    let i = 1;
    const flags = new Set<string>();
    while (i < args.length && ['NX', 'XX', 'GT', 'LT', 'CH'].includes(args[i]!.toUpperCase())) {
      flags.add(args[i]!.toUpperCase());
      i++;
    }
    const pairs = args.slice(i);
    if (pairs.length === 0 || pairs.length % 2 !== 0) throw new RedisError('ERR syntax error');
    if (flags.has('NX') && flags.has('XX'))
      throw new RedisError('ERR XX and NX options at the same time are not compatible');
    if (
      (flags.has('GT') && flags.has('LT')) ||
      (flags.has('NX') && (flags.has('GT') || flags.has('LT')))
    )
      throw new RedisError('ERR GT, LT, and/or NX options at the same time are not compatible');
    const raw = pairs.filter((_, k) => k % 2 === 0);
    this.watch(raw);
    const scores = raw.map(parseScore);
    const z = this.zset(key, true)!;
    let added = 0;
    let changed = 0;
    for (let k = 0; k < scores.length; k++) {
      const score = scores[k]!;
      const member = pairs[2 * k + 1]!;
      const old = z.get(member);
      if (old === undefined) {
        // LT and GT never stop a new member (Redis' documentation); XX does.
        if (flags.has('XX')) continue;
        z.set(member, score);
        added++;
        continue;
      }
      if (flags.has('NX')) continue;
      if (flags.has('LT') && !(score < old)) continue;
      if (flags.has('GT') && !(score > old)) continue;
      if (score !== old) {
        z.set(member, score);
        changed++;
      }
    }
    if (z.size === 0) this.zsets.delete(key);
    return flags.has('CH') ? added + changed : added;
  }

  /** By score, then member (byte order; every member here is ASCII). */
  private sorted(key: string): [string, number][] {
    return [...(this.zset(key) ?? [])].sort((a, b) =>
      a[1] !== b[1] ? a[1] - b[1] : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0,
    );
  }

  private hash(key: string, create = false): Map<string, string> | undefined {
    if (this.zsets.has(key)) throw new RedisError(WRONGTYPE);
    let h = this.hashes.get(key);
    if (!h && create) {
      h = new Map();
      this.hashes.set(key, h);
    }
    return h;
  }

  private zset(key: string, create = false): Map<string, number> | undefined {
    if (this.hashes.has(key)) throw new RedisError(WRONGTYPE);
    let z = this.zsets.get(key);
    if (!z && create) {
      z = new Map();
      this.zsets.set(key, z);
    }
    return z;
  }
}

function integer(s: string): number {
  if (!/^-?\d+$/.test(s)) throw new RedisError('ERR value is not an integer or out of range');
  return Number(s);
}

function parseScore(s: string): number {
  const t = s.toLowerCase();
  if (t === 'inf' || t === '+inf') return Number.POSITIVE_INFINITY;
  if (t === '-inf') return Number.NEGATIVE_INFINITY;
  const n = Number(s);
  if (s.trim() === '' || s.trim() !== s || Number.isNaN(n))
    throw new RedisError('ERR value is not a valid float');
  return n;
}

function bound(s: string): { value: number; open: boolean } {
  const open = s.startsWith('(');
  try {
    return { value: parseScore(open ? s.slice(1) : s), open };
  } catch {
    throw new RedisError('ERR min or max is not a float');
  }
}

/** Redis 7's shortest round-trip form; for the whole numbers here, the same digits as %.17g. */
function formatScore(score: number): string {
  if (score === Number.POSITIVE_INFINITY) return 'inf';
  if (score === Number.NEGATIVE_INFINITY) return '-inf';
  return String(score);
}

/** A reply of redis.call, written for the Lua glue: n, i<int>, b<bytes>, e<msg>, a<items>. */
function wire(v: Value): string {
  if (v === null) return 'n';
  if (typeof v === 'number') return `i${v}`;
  if (typeof v === 'string') return `b${v}`;
  // Arrays hold bulk strings (or nils) only here: each as <bytes>:<text>, or '-'.
  return `a${v
    .map((e) => {
      if (e === null) return '-';
      if (typeof e !== 'string') throw new Error('nested array replies are not needed here');
      return `${Buffer.byteLength(e)}:${e}`;
    })
    .join('')}`;
}

/** The Redis side of the Lua state: redis.call and friends, KEYS/ARGV, the reply back as JSON. */
const GLUE = `
local js = __redis_command
__redis_command = nil

local function decode(s)
  local tag = string.sub(s, 1, 1)
  if tag == 'n' then return false end
  if tag == 'i' then return math.tointeger(tonumber(string.sub(s, 2))) end
  if tag == 'b' then return string.sub(s, 2) end
  if tag == 'e' then error({ err = string.sub(s, 2) }, 0) end
  local out, pos = {}, 2
  while pos <= #s do
    if string.sub(s, pos, pos) == '-' then
      out[#out + 1] = false
      pos = pos + 1
    else
      local colon = string.find(s, ':', pos, true)
      local len = tonumber(string.sub(s, pos, colon - 1))
      out[#out + 1] = string.sub(s, colon + 1, colon + len)
      pos = colon + 1 + len
    end
  end
  return out
end

local function command(raise, name, ...)
  local n = select('#', ...)
  local args = { ... }
  for i = 1, n do
    local v = args[i]
    if type(v) == 'number' then
      args[i] = string.format('%.17g', v)
    elseif type(v) ~= 'string' then
      error({ err = 'ERR Lua redis lib command arguments must be strings or integers' }, 0)
    end
  end
  local ok, reply = pcall(decode, js(name, table.unpack(args, 1, n)))
  if ok then return reply end
  if raise then error(reply, 0) end
  return reply
end

redis = {
  call = function(...) return command(true, ...) end,
  pcall = function(...) return command(false, ...) end,
  error_reply = function(msg) return { err = msg } end,
  status_reply = function(msg) return { ok = msg } end,
}

local function quote(s)
  return '"' .. string.gsub(s, '[%c"\\\\]', function(c)
    return string.format('\\\\u%04x', string.byte(c))
  end) .. '"'
end

local function encode(v)
  local t = type(v)
  if t == 'string' then return quote(v) end
  if t == 'number' then
    if v ~= v then return 'null' end
    local whole = v >= 0 and math.floor(v) or math.ceil(v)
    if math.type(whole) == 'integer' then return string.format('%d', whole) end
    return string.format('%.0f', whole)
  end
  if t == 'boolean' then return v and '1' or 'null' end
  if t == 'table' then
    if v.err then return '{"err":' .. quote(tostring(v.err)) .. '}' end
    if v.ok then return quote(tostring(v.ok)) end
    local parts, i = {}, 1
    while v[i] ~= nil do
      parts[i] = encode(v[i])
      i = i + 1
    end
    return '[' .. table.concat(parts, ',') .. ']'
  end
  return 'null'
end

return function(source)
  local script, problem = load(source, '=budget', 't')
  if not script then error(problem) end
  return function(nkeys, ...)
    local all = { ... }
    KEYS, ARGV = {}, {}
    for i = 1, nkeys do KEYS[i] = all[i] end
    for i = nkeys + 1, select('#', ...) do ARGV[i - nkeys] = all[i] end
    local ok, reply = pcall(script)
    if not ok then
      if type(reply) == 'table' and reply.err then return encode(reply) end
      return '{"err":' .. quote('ERR script failed: ' .. tostring(reply)) .. '}'
    end
    return encode(reply)
  end
end
`;

let factory: LuaFactory | null = null;

/** wasmoon, resolved from the working directory at run time: the bundle does not inline it. */
async function newEngine(): Promise<LuaEngine> {
  const req = createRequire(`${process.cwd()}/`);
  const wasmoon = req('wasmoon') as typeof import('wasmoon');
  factory ??= new wasmoon.LuaFactory();
  return factory.createEngine({ injectObjects: false, enableProxy: false });
}

/** A Lua state holding one compiled script, run against a MemoryRedis. */
export class LuaScripting {
  runs = 0;
  private constructor(
    private readonly engine: LuaEngine,
    private readonly fn: (nkeys: number, ...args: string[]) => string,
  ) {}

  static async load(redis: MemoryRedis, source = BUDGET_SCRIPT): Promise<LuaScripting> {
    const engine = await newEngine();
    engine.global.set('__redis_command', (name: string, ...args: string[]): string => {
      try {
        return wire(redis.command(String(name), args.map(String)));
      } catch (err) {
        if (err instanceof RedisError) return `e${err.message}`;
        throw err;
      }
    });
    const compile = engine.doStringSync(GLUE) as (source: string) => unknown;
    const fn = compile(source) as (nkeys: number, ...args: string[]) => string;
    return new LuaScripting(engine, fn);
  }

  /** EVAL: the reply as ioredis would hand it over; a Redis error reply throws. */
  eval(keys: readonly string[], args: readonly (string | number)[]): unknown {
    this.runs++;
    const out = JSON.parse(this.fn(keys.length, ...keys, ...args.map(String))) as unknown;
    if (out !== null && typeof out === 'object' && !Array.isArray(out) && 'err' in out)
      throw new Error(String((out as { err: unknown }).err));
    return out;
  }

  close(): void {
    this.engine.global.close();
  }
}

/**
 * The script as a BudgetRedis on the simulated clock: it runs atomically when the command
 * reaches Redis, half a round trip after the call, and its reply arrives half a round trip
 * later.
 */
export function simulatedRedis(clock: SimClock, lua: LuaScripting, roundTripMs = 1): BudgetRedis {
  return {
    run: (keys, args) =>
      new Promise((resolve, reject) => {
        clock.timers_.set(() => {
          let reply: unknown;
          try {
            reply = lua.eval(keys, args);
          } catch (err) {
            clock.timers_.set(() => reject(err), roundTripMs / 2);
            return;
          }
          clock.timers_.set(() => resolve(reply), roundTripMs / 2);
        }, roundTripMs / 2);
      }),
  };
}
