// The emulator's msgpack codec (sandbox/emulator/msgpack.ts, after FXServer's main.js /
// msgpack.js) and its Lua runtime (sandbox/emulator/lua, after scheduler.lua and
// lua-cmsgpack): what each side receives from the other.
import vm from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostRealm, type Realm } from '../sandbox/emulator/copy';
import { FxServer } from '../sandbox/emulator/index';
import { decode, encode, vectorComponents } from '../sandbox/emulator/msgpack';

const noFunctions = { realm: hostRealm, funcRef: () => 'none:0:0' };
const roundTrip = (v: unknown, realm: Realm = hostRealm) =>
  decode(encode(v, noFunctions), { realm, funcRef: () => null });
const hex = (v: unknown) => Buffer.from(encode(v, noFunctions)).toString('hex');

describe('msgpack codec (main.js / msgpack.js rules)', () => {
  it('round-trips plain data into the receiving realm', () => {
    const context = vm.createContext({});
    const realm = vm.runInContext(
      '({ Object, Array, Date, Uint8Array, Error, TypeError })',
      context,
    ) as Realm;
    const value = {
      s: 'héllo 👋',
      n: [0, -1, 127, 128, -33, 65536, -2147483648, 2 ** 31 - 1, 1.5],
      big: 2 ** 40,
      flags: { t: true, f: false, nil: null },
      nested: [[{ deep: ['x'] }]],
    };
    const copy = roundTrip(value, realm) as typeof value;
    expect(copy).toEqual(value);
    context.copy = copy;
    expect(vm.runInContext('Array.isArray(copy.n) && copy instanceof Object', context)).toBe(true);
    expect(copy instanceof Object).toBe(false);
  });

  it('encodes as msgpack-lite does: int32 as ints, every other number as float64', () => {
    expect(hex(1)).toBe('01');
    expect(hex(-1)).toBe('ff');
    expect(hex(200)).toBe('ccc8');
    expect(hex(-200)).toBe('d1ff38');
    expect(hex(2 ** 31 - 1)).toBe('ce7fffffff');
    expect(hex(2 ** 32)).toBe('cb41f0000000000000');
    expect(hex(1.5)).toBe('cb3ff8000000000000');
    expect(hex(-0)).toBe('00');
    expect(roundTrip([Number.NaN, Number.POSITIVE_INFINITY])).toEqual([
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ]);
    expect(hex('x'.repeat(40)).slice(0, 4)).toBe('d928');
    expect(hex(undefined)).toBe('c0');
  });

  it('loses prototypes: Date and Map become {}, class instances keep own keys only', () => {
    class Point {
      x = 1;
      get y() {
        return 2;
      }
      norm() {
        return 0;
      }
    }
    const copy = roundTrip({ when: new Date(5), m: new Map([[1, 2]]), p: new Point() }) as Record<
      string,
      unknown
    >;
    expect(copy).toEqual({ when: {}, m: {}, p: { x: 1 } });
    expect(Object.getPrototypeOf(copy.p)).toBe(Object.prototype);
    expect(copy.when instanceof Date).toBe(false);
  });

  it('sends ArrayBuffer as bin, but a Uint8Array or Buffer as a map of index keys', () => {
    const ab = roundTrip(new Uint8Array([1, 2, 255]).buffer);
    expect(ab).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(ab as ArrayBuffer)]).toEqual([1, 2, 255]);
    expect(roundTrip(new Uint8Array([7, 8]))).toEqual({ 0: 7, 1: 8 });
    expect(roundTrip(Buffer.from('hi'))).toEqual({ 0: 104, 1: 105 });
  });

  it('turns functions into ext 10 references and them into callables', () => {
    const fns: ((...a: unknown[]) => unknown)[] = [];
    const bytes = encode(
      { cb: (a: number) => a + 1, gen: function* () {} },
      { realm: hostRealm, funcRef: (fn) => `res:1:${fns.push(fn as never) - 1}` },
    );
    expect(Buffer.from(bytes).toString('hex')).toContain('c7070a7265733a313a30'); // ext8 type 10 "res:1:0"
    const copy = decode(bytes, {
      realm: hostRealm,
      funcRef: (ref) => (x: number) => (fns[Number(ref.split(':')[2])] as (x: number) => number)(x),
    }) as { cb: (x: number) => number; gen: unknown };
    expect(copy.cb(41)).toBe(42);
    expect(copy.gen).toBeNull();
  });

  it('throws in the sender on a cycle', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => encode(a, noFunctions)).toThrow(/circular/);
  });

  it('makes integer map keys string keys', () => {
    // {1: 'a', 3: 'c'} as a Lua table with a hole encodes it: a map with int keys.
    const bytes = Uint8Array.from([0x82, 0x01, 0xa1, 0x61, 0x03, 0xa1, 0x63]);
    expect(decode(bytes, { realm: hostRealm, funcRef: () => null })).toEqual({ 1: 'a', 3: 'c' });
    expect(Object.keys(decode(bytes, { realm: hostRealm, funcRef: () => null }) as object)).toEqual(
      ['1', '3'],
    );
  });
});

let fx: FxServer;
beforeEach(() => {
  fx = new FxServer();
});
afterEach(() => {
  fx.shutdown();
});

/** A JS resource that keeps what it is given, and a Lua resource that gives it `lua`. */
async function fromLua(lua: string): Promise<unknown[][]> {
  fx.startResource('probe', {
    server: `
      const got = [];
      exports('take', (...args) => { got.push(args); return got.length; });
      exports('got', () => got);
      exports('types', () => got.map((args) => args.map((a) => Array.isArray(a) ? 'array' : typeof a)));`,
  });
  expect(await fx.startLuaResource('lua', lua)).toBe(true);
  expect(fx.errors).toEqual([]);
  return fx.exportsOf<{ got(): unknown[][] }>('probe').got();
}

describe('values from Lua (lua-cmsgpack rules)', () => {
  it('sends a vector3 as ext 21 of little-endian float32', async () => {
    const got = (await fromLua(
      'exports.probe:take(vector2(1, 2), vector3(1.5, 2.25, -3.1), vector4(1, 2, 3, 4))',
    )) as { buffer: Uint8Array; type: number }[][];
    const [v2, v3, v4] = got[0]!;
    expect(v3).toMatchObject({ type: 21 });
    expect(v3!.buffer).toBeInstanceOf(Uint8Array);
    expect(v3!.buffer.byteLength).toBe(12);
    expect(vectorComponents(v3!)).toEqual([1.5, 2.25, Math.fround(-3.1)]);
    expect(Object.keys(v3!)).toEqual(['buffer', 'type']);
    expect([v2!.type, v2!.buffer.byteLength, v4!.type, v4!.buffer.byteLength]).toEqual([
      20, 8, 22, 16,
    ]);
  });

  it('sends an empty table as [] and a table with holes or other keys as a map', async () => {
    const [args] = await fromLua(
      "exports.probe:take({}, {1, nil, 3}, {a = 1, [2] = 'two'}, {1, 2, 3}, {[1] = 'x', [3] = 'z'})",
    );
    expect(args).toEqual([[], { 1: 1, 3: 3 }, { a: 1, 2: 'two' }, [1, 2, 3], { 1: 'x', 3: 'z' }]);
    expect(fx.exportsOf<{ types(): string[][] }>('probe').types()).toEqual([
      ['array', 'object', 'object', 'array', 'object'],
    ]);
  });

  it('keeps integers and floats apart on the wire, both numbers in JS', async () => {
    fx.startResource('bytes', {
      server: `const seen = []; exports('hex', (h) => { seen.push(h); }); exports('seen', () => seen);`,
    });
    const [args] = await fromLua(`
      local function hex(s) return (s:gsub('.', function(c) return ('%02x'):format(c:byte()) end)) end
      exports.bytes:hex(hex(msgpack.pack(3, 3.0, 3.5, -1, 300, math.maxinteger, 'abc')))
      exports.probe:take(3, 3.0, 3.5, math.maxinteger, 0.1)`);
    expect(fx.exportsOf<{ seen(): string[] }>('bytes').seen()).toEqual([
      '03' +
        'cb4008000000000000' +
        'cb400c000000000000' +
        'ff' +
        'cd012c' +
        'cf7fffffffffffffff' +
        'a3616263',
    ]);
    // math.maxinteger is a uint64 on the wire and a (rounded) double in JS
    expect(args).toEqual([3, 3, 3.5, 2 ** 63, 0.1]);
  });

  it('nests tables, up to 16 levels', async () => {
    const [[deep, nested] = []] = (await fromLua(`
      local t = {}
      local cur = t
      for i = 1, 20 do cur.next = {}; cur = cur.next end
      exports.probe:take(t, { list = { 1, { x = 'y' } }, flag = true })`)) as unknown[][];
    let depth = 0;
    for (let cur = deep as { next?: unknown } | null; cur; cur = cur.next as never) depth++;
    // pack_args puts the argument at level 1; the table at level 16 is packed as nil.
    expect(depth).toBe(15);
    expect(nested).toEqual({ list: [1, { x: 'y' }], flag: true });
  });

  it('gets JS values as lua-cmsgpack decodes them', async () => {
    fx.startResource('giver', {
      server: `exports('give', () => ({ int: 3, float: 3.5, big: 2 ** 40, list: [1, null, 3], map: { 1: 'one' }, none: undefined, empty: {}, arr: [] }));`,
    });
    await fromLua(`
      local v = exports.giver:give()
      exports.probe:take(math.type(v.int), math.type(v.float), math.type(v.big), v.list[1], v.list[2], v.list[3],
        v.map[1], v.map['1'], v.none, next(v.empty), next(v.arr))`);
    expect(fx.exportsOf<{ got(): unknown[][] }>('probe').got()).toEqual([
      ['integer', 'float', 'float', 1, null, 3, null, 'one', null, null, null],
    ]);
  });
});

describe('a Lua resource in the emulator', () => {
  it('drops self in a colon call: the dot call loses its first argument', async () => {
    const [colon, dot] = await fromLua(`
      exports['probe']:take('a', 'b')
      exports['probe'].take('a', 'b')`);
    expect(colon).toEqual(['a', 'b']);
    expect(dot).toEqual(['b']);
  });

  it('names itself as the invoking resource and gets export return values', async () => {
    fx.startResource('who', { server: `exports('who', () => [GetInvokingResource(), 7]);` });
    await fromLua(`
      local r = exports.who:who()
      exports.probe:take(r[1], r[2], GetCurrentResourceName())`);
    expect(fx.exportsOf<{ got(): unknown[][] }>('probe').got()).toEqual([['lua', 7, 'lua']]);
  });

  it('passes Lua functions as references that stay callable after the export returned', async () => {
    fx.startResource('later', {
      server: `
        let saved = null;
        exports('keep', (cb) => { saved = cb; return typeof cb; });
        exports('fire', (x) => saved(x, { n: 2 }));`,
    });
    expect(
      await fx.startLuaResource(
        'lua',
        `print(exports.later:keep(function(x, t) print('called', x, t.n, GetInvokingResource()); return x * 2, 'more' end))`,
      ),
    ).toBe(true);
    expect(fx.exportsOf<{ fire(x: number): unknown }>('later').fire(21)).toEqual([42, 'more']);
    expect(fx.serverLog('lua')).toEqual(['function', 'called\t21\t2\tlater']);
    expect(fx.errors).toEqual([]);
  });

  it('awaits a JS export that returns a promise, inside a Lua thread', async () => {
    fx.startResource('slow', {
      server: `
        exports('later', (x) => new Promise((resolve) => setTimeout(() => resolve(x + 1), 20)));
        exports('fails', () => Promise.reject(new Error('no luck')));`,
    });
    await fx.startLuaResource(
      'lua',
      `
      print('got', exports.slow:later(41))
      local ok, err = pcall(function() return exports.slow:fails() end)
      print(ok, err)`,
    );
    await fx.waitFor(() => fx.serverLog('lua').length === 2, { what: 'both answers' });
    const [got, failed] = fx.serverLog('lua');
    expect(got).toBe('got\t42');
    expect(failed).toMatch(
      /^false\t.*An error occurred while calling export `fails` in resource `slow`:\n {2}.*no luck\n\^5 ---$/s,
    );
  });

  it('surfaces a throwing JS export as scheduler.lua does ("nil")', async () => {
    fx.startResource('boom', { server: `exports('boom', () => { throw new Error('kaput'); });` });
    await fx.startLuaResource(
      'lua',
      `local ok, err = pcall(function() return exports.boom:boom() end) print(ok, err)`,
    );
    expect(fx.serverLog('lua')[0]).toMatch(
      /^false\t.*An error occurred while calling export `boom` in resource `boom`:\n {2}nil\n\^5 ---$/s,
    );
    expect(fx.errors.map((e) => [e.resource, e.where, e.message])).toEqual([
      ['boom', 'export boom', 'kaput'],
    ]);
  });

  it('says "No such export" and records uncaught errors of its threads', async () => {
    await fx.startLuaResource('lua', `exports.nobody:nothing()`);
    expect(fx.errors).toHaveLength(1);
    expect(fx.errors[0]).toMatchObject({ resource: 'lua', where: 'script load @lua/server.lua' });
    expect(fx.errors[0]!.message).toMatch(/No such export nothing in resource nobody/);
  });

  it('refuses to start when the Lua file does not compile', async () => {
    expect(await fx.startLuaResource('lua', 'local = 1')).toBe(false);
    expect(fx.resourceState('lua')).toBe('stopped');
    expect(fx.errors[0]!.where).toBe('script load @lua/server.lua');
  });

  it('handles local and net events with source set, and Wait in threads', async () => {
    await fx.startLuaResource(
      'lua',
      `
      AddEventHandler('t:local', function(a, b) print('local', a, b.k, source) end)
      RegisterNetEvent('t:net', function(x)
        local src = source
        Wait(10)
        print('net', x, src, source)
      end)
      AddEventHandler('t:unsafe', function() print('should not run') end)
      CreateThread(function() Wait(5) print('thread done', GetGameTimer() > 0) end)`,
    );
    fx.emit('t:local', 1, { k: 'v' });
    const player = fx.addPlayer({ name: 'Ann', identifiers: ['license:ann'], position: [1, 2, 3] });
    player.emitNet('t:net', 'hi');
    player.emitNet('t:unsafe');
    await fx.waitFor(() => fx.serverLog('lua').some((l) => l.startsWith('net')), {
      what: 'net event',
    });
    await fx.waitFor(() => fx.serverLog('lua').includes('thread done\ttrue'), { what: 'thread' });
    expect(fx.serverLog('lua').filter((l) => !l.startsWith('thread'))).toEqual([
      'local\t1\tv\t',
      'event t:unsafe was not safe for net',
      'net\thi\t1\tnil',
    ]);
  });

  it('reads players and positions through natives', async () => {
    const ann = fx.addPlayer({
      name: 'Ann',
      identifiers: ['license:ann', 'discord:1'],
      position: [425.1, -979.2, 30.7],
    });
    await fx.startLuaResource(
      'lua',
      `
      local players = GetPlayers()
      local id = players[1]
      local coords = GetEntityCoords(GetPlayerPed(id))
      print(#players, type(id), id, GetPlayerName(id), json.encode(GetPlayerIdentifiers(id)))
      print(coords.x, coords.y, coords.z, tostring(coords))
      print(pcall(GetEntityCoords, 12345))`,
    );
    const lines = fx.serverLog('lua');
    expect(lines[0]).toBe(`1\tstring\t${ann.id}\tAnn\t["license:ann","discord:1"]`);
    // float32 components, printed with Lua's %.14g
    expect(lines[1]).toBe(
      '425.10000610352\t-979.20001220703\t30.700000762939\tvector3(425.1, -979.2, 30.7)',
    );
    expect(lines[2]).toMatch(/^false\t.*Tried to access invalid entity/);
  });

  it('passes Lua callbacks through events, and invalidates them when the resource stops', async () => {
    fx.startResource('js', {
      server: `
        let kept = null;
        on('t:withCallback', (cb) => { kept = cb; console.log('cb says', cb(20)); });
        exports('callKept', () => kept(1));`,
    });
    await fx.startLuaResource(
      'lua',
      `TriggerEvent('t:withCallback', function(x) return x + 1 end)`,
    );
    expect(fx.serverLog('js')).toEqual(['cb says 21']);
    const js = fx.exportsOf<{ callKept(): unknown }>('js');
    expect(js.callKept()).toBe(2);
    fx.stopResource('lua');
    expect(() => js.callKept()).toThrow('An error occurred while calling export callKept');
    expect(fx.errors.map((e) => [e.resource, e.message])).toEqual([
      [
        'js',
        "Error in nested ref call for js. js tried to call a function reference in lua but the reference wasn't valid. And lua isn't started, was the resource restarted mid call?",
      ],
    ]);
    fx.errors.length = 0;
  });

  it('looks exports up again after the provider restarted', async () => {
    fx.startResource('provider', { server: `exports('boot', () => GetResourceKvpInt('n'));` });
    fx.kvp('provider').set('n', '1');
    await fx.startLuaResource(
      'lua',
      `exports('ask', function() return exports.provider:boot() end)`,
    );
    const lua = fx.exportsOf<{ ask(): unknown }>('lua');
    expect(lua.ask()).toBe(1);
    fx.kvp('provider').set('n', '2');
    fx.restartResource('provider');
    expect(lua.ask()).toBe(2);
    expect(fx.errors).toEqual([]);
  });

  it('lets JS call Lua exports and receive Lua vectors back as vectors', async () => {
    await fx.startLuaResource(
      'lua',
      `exports('echo', function(v) return v end)
       exports('pair', function(a, b) return a + b, a * b end)`,
    );
    const api = fx.exportsOf<{ echo(v: unknown): unknown; pair(a: number, b: number): unknown }>(
      'lua',
      { from: 'tester' },
    );
    expect(api.pair(3, 4)).toEqual([7, 12]);
    expect(api.echo({ a: [1, 2] })).toEqual({ a: [1, 2] });
    fx.startResource('probe', { server: `exports('take', (v) => v);` });
    await fx.startLuaResource(
      'lua2',
      `local back = exports.lua:echo(exports.probe:take(vector3(1, 2, 3)))
       print(type(back), back.x, back.y, back.z)`,
    );
    expect(fx.serverLog('lua2')).toEqual(['table\t1.0\t2.0\t3.0']);
  });
});
