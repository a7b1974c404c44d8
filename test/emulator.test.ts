// Self-tests of the FXServer emulator, with small inline scripts standing in for resources.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FxServer, type Player } from '../sandbox/emulator/index';

let fx: FxServer;

beforeEach(() => {
  fx = new FxServer({ convars: { sonoran_apiKey: 'k-1', rate: '12', word: 'abc' } });
});

afterEach(() => {
  fx.shutdown();
});

function join(name = 'Ann', extra: Partial<Parameters<FxServer['addPlayer']>[0]> = {}): Player {
  return fx.addPlayer({
    name,
    identifiers: [`license:${name.toLowerCase()}1`, `discord:${name.length}`],
    position: [100, -200, 30],
    ...extra,
  });
}

/** Last client line of a player that starts with `prefix`, parsed as JSON after it. */
function clientJson(player: Player, prefix: string): Record<string, unknown> {
  const line = fx
    .clientLog(player.id)
    .reverse()
    .find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`no client line starting with ${prefix}`);
  return JSON.parse(line.slice(prefix.length));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('events', () => {
  it('delivers net events both ways with source set only during the handler', async () => {
    fx.startResource('pingpong', {
      server: `
        onNet('t:ping', (msg) => {
          const src = source;
          emitNet('t:pong', src, { got: msg, src, type: typeof src });
          emitNet('t:all', -1, 'everyone');
          setTimeout(() => console.log('later source', String(source)), 0);
        });`,
      client: `
        onNet('t:pong', (d) => console.log('pong ' + JSON.stringify(d)));
        onNet('t:all', (m) => console.log('all', m, source));
        on('onClientResourceStart', (name) => {
          if (name === GetCurrentResourceName()) emitNet('t:ping', 'hi');
        });`,
    });
    const ann = join('Ann');
    const bob = join('Bob');
    await fx.waitFor(() => fx.serverLog().includes('later source null'), {
      what: 'both pings',
    });
    await fx.settle();
    expect(clientJson(ann, 'pong ')).toEqual({ got: 'hi', src: 1, type: 'number' });
    expect(clientJson(bob, 'pong ')).toEqual({ got: 'hi', src: 2, type: 'number' });
    expect(fx.clientLog(ann.id).filter((l) => l === 'all everyone 65535')).toHaveLength(2);
    expect(ann.received.map((e) => e.name)).toContain('t:pong');
    expect(fx.errors).toEqual([]);
  });

  it('copies payloads like msgpack, into the receiving realm', async () => {
    fx.startResource('copy', {
      server: `
        let last = null;
        onNet('t:data', (d) => { last = d; console.log('plain', d instanceof Object, Array.isArray(d.arr)); });
        exports('last', () => last);`,
      client: `
        RegisterCommand('send', () => {
          class Point { constructor() { this.x = 1; } get y() { return 2; } }
          const d = { u: undefined, f: () => 1, nan: NaN, inf: -Infinity, arr: [1, undefined],
            p: new Point(), when: new Date(5), nested: { s: 'x', b: false, n: null } };
          emitNet('t:data', d);
          d.nested.s = 'mutated after send';
        }, false);`,
    });
    const ann = join();
    ann.type('/send');
    await fx.waitFor(() => fx.serverLog('copy').length > 0, { what: 'data on server' });
    const got = fx.exportsOf('copy').last?.() as Record<string, unknown>;
    // main.js packs every function as a reference (ext 10) and has no Date packer
    // (`preset: false`): a Date is a map of its own keys, {}.
    expect(got).toEqual({
      u: null,
      f: expect.any(Function),
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      arr: [1, null],
      p: { x: 1 },
      when: {},
      nested: { s: 'x', b: false, n: null },
    });
    expect(fx.serverLog('copy')).toEqual(['plain true true']);
    // A reference from the client names a runtime of another machine: calling it fails
    // in the server resource, which holds it, and the test holds the server's re-packing.
    expect(() => (got.f as () => unknown)()).toThrow('Error in nested ref call for (test)');
    expect(fx.errors.map((e) => [e.resource, e.message])).toEqual([
      ['copy', 'Error in nested ref call for copy. '],
    ]);
    fx.errors.length = 0;
  });

  it('refuses network events for names registered with plain on()', async () => {
    fx.startResource('strict', {
      server: `on('t:local', () => console.log('ran'));`,
      client: `on('t:local', () => console.log('client ran'));`,
    });
    const ann = join();
    ann.emitNet('t:local');
    fx.emitClient(ann.id, 't:local');
    await fx.settle();
    expect(fx.serverLog('strict')).toEqual(['event t:local was not safe for net']);
    expect(fx.clientLog(ann.id)).toEqual(['event t:local was not safe for net']);
  });

  it('runs local emits synchronously across resources, with function references', () => {
    fx.startResource('a', {
      server: `on('hello', (o, cb) => {
        console.log('A got', o.n, GetInvokingResource(), JSON.stringify(source));
        o.n = 99;
        cb('from A');
      });`,
    });
    fx.startResource('b', {
      server: `RegisterCommand('go', () => {
        const o = { n: 1 };
        emit('hello', o, (m) => console.log('B cb', m, GetInvokingResource()));
        console.log('after', o.n);
      }, false);`,
    });
    expect(fx.console('go')).toEqual(['A got 1 b ""', 'B cb from A a', 'after 1']);
  });
});

describe('commands', () => {
  beforeEach(() => {
    fx.startResource('cmds', {
      server: `
        RegisterCommand('both', () => console.log('server both'), false);
        RegisterCommand('srv', (src, args, raw) =>
          console.log('srv', src, source, JSON.stringify(args), raw), false);
        RegisterCommand('adm', (src) => console.log('adm by', src), true);`,
      client: `
        RegisterCommand('both', (src, args, raw) =>
          console.log('client both', src, JSON.stringify(args), raw), false);`,
    });
  });

  it('runs a client command before a server one of the same name', () => {
    const ann = join();
    ann.type('/both a b');
    expect(fx.clientLog(ann.id)).toEqual(['client both 0 ["a","b"] both a b']);
    expect(fx.serverLog('cmds')).toEqual([]);
  });

  it('gives server commands the player id as argument and as source', () => {
    const ann = join();
    ann.type('/srv x  y');
    expect(fx.serverLog('cmds')).toEqual(['srv 1 1 ["x","y"] srv x  y']);
  });

  it('denies restricted commands without the ACE, allows with it or a parent ACE', () => {
    const ann = join('Ann');
    ann.type('/adm');
    expect(fx.serverLog('cmds')).toEqual([]);
    expect(fx.serverLog('fxserver')).toContain('Access denied for command adm.');
    ann.aces.push('command.adm');
    ann.type('/adm');
    const bob = join('Bob', { aces: ['command'] });
    bob.type('/ADM');
    expect(fx.serverLog('cmds')).toEqual(['adm by 1', 'adm by 2']);
    expect(fx.console('adm')).toEqual(['adm by 0']);
  });

  it('ignores unknown commands and forgets commands of a stopped resource', () => {
    const ann = join();
    ann.type('/nope');
    // The stock chat takes an unknown command from a player and shows it as a message.
    expect(ann.chatText()).toContain('Ann: /nope');
    fx.console('nope');
    expect(fx.serverLog('fxserver')).toContain('No such command nope.');
    fx.stopResource('cmds');
    ann.type('/both');
    expect(fx.console('srv')).toEqual([]);
    expect(fx.logs.filter((l) => l.resource === 'cmds')).toEqual([]);
  });
});

describe('exports', () => {
  beforeEach(() => {
    fx.startResource('provider', {
      server: `
        exports('add', (a, b) => a + b);
        exports('who', () => GetInvokingResource());
        exports('echo', (v) => v);
        exports('later', (cb) => { setTimeout(() => cb('done', { n: 1 }), 0); return true; });
        exports('boom', () => { throw new Error('kaput'); });
        exports('promise', async () => 5);`,
    });
  });

  it('names the caller with GetInvokingResource and copies values', async () => {
    const p = fx.exportsOf('provider', { from: 'robbery' });
    expect(p.who?.()).toBe('robbery');
    expect(fx.exportsOf('provider').who?.()).toBeNull();
    expect(p.add?.(2, 3)).toBe(5);
    expect(p.echo?.({ a: undefined, m: new Map([[1, 2]]) })).toEqual({ a: null, m: {} });
    // main.js answers a promise with { __cfx_async_retval } and the caller's
    // refFunctionUnpacker makes a promise of it again.
    await expect(p.promise?.()).resolves.toBe(5);
  });

  it('keeps functions callable in both directions', async () => {
    const p = fx.exportsOf<{ echo(f: (x: number) => number): (x: number) => number }>('provider');
    expect(p.echo((x) => x * 2)(21)).toBe(42);
    fx.startResource('consumer', {
      server: `on('onResourceStart', (name) => {
        if (name !== GetCurrentResourceName()) return;
        console.log('who=' + exports.provider.who());
        exports['provider']['later']((msg, o) => console.log('cb', msg, o.n, GetInvokingResource()));
      });`,
    });
    await fx.waitFor(() => fx.serverLog('consumer').length === 2, { what: 'callback' });
    expect(fx.serverLog('consumer')).toEqual(['who=consumer', 'cb done 1 provider']);
  });

  it('records a throwing export and throws a FiveM-style error to the caller', () => {
    expect(() => fx.exportsOf('provider').boom?.()).toThrow(
      'An error occurred while calling export boom of resource provider',
    );
    expect(fx.errors.map((e) => [e.resource, e.where, e.message])).toEqual([
      ['provider', 'export boom', 'kaput'],
    ]);
    fx.errors.length = 0;
  });

  it('records errors thrown by a callback passed to an export', async () => {
    fx.exportsOf('provider').later?.(() => {
      throw new Error('callback broke');
    });
    await fx.waitFor(() => fx.errors.length >= 1, { what: 'callback error' });
    expect(fx.errors[0]).toMatchObject({ resource: '(test)', message: 'callback broke' });
    fx.errors.length = 0;
  });

  it('throws "No such export" for missing exports and stopped resources', () => {
    expect(() => fx.exportsOf('provider').nope).toThrow('No such export nope in resource provider');
    expect(() => fx.exportsOf('ghost').x?.()).toThrow('No such export x in resource ghost');
    fx.stopResource('provider');
    expect(() => fx.exportsOf('provider').add?.(1, 2)).toThrow('No such export add');
  });
});

describe('resource lifecycle', () => {
  it('keeps KVP across restarts and iterates keys in order', () => {
    const server = `
      const n = Number(GetResourceKvpString('boots') ?? '0') + 1;
      SetResourceKvp('boots', String(n));
      SetResourceKvp('q:2', 'b'); SetResourceKvpNoSync('q:1', 'a'); SetResourceKvp('other', 'x');
      SetResourceKvp('gone', 'x'); DeleteResourceKvp('gone');
      const h = StartFindKvp('q:');
      const keys = [];
      for (let k = FindKvp(h); k; k = FindKvp(h)) keys.push(k);
      EndFindKvp(h);
      console.log('boot', n, keys.join(','), GetResourceKvpString('gone'));`;
    fx.startResource('store', { server });
    fx.restartResource('store');
    fx.restartResource('store');
    expect(fx.serverLog('store').at(-1)).toBe('boot 3 q:1,q:2 null');
    expect(fx.kvp('store').get('boots')).toBe('3');
    fx.kvp('store').set('boots', '41');
    fx.restartResource('store');
    expect(fx.serverLog('store').at(-1)).toMatch(/^boot 42 /);
  });

  it('clears timers, ticks and handlers when a resource stops', async () => {
    fx.startResource('ticker', {
      server: `
        setInterval(() => console.log('interval'), 5);
        setTick(() => console.log('tick'));
        setTimeout(() => console.log('late timeout'), 100);
        setImmediate(() => console.log('immediate'));
        on('onResourceStop', (name) => console.log('stopping', name));`,
      client: `setTick(() => console.log('client tick'));`,
    });
    const ann = join();
    await fx.waitFor(
      () => fx.serverLog('ticker').includes('tick') && fx.clientLog(ann.id).includes('client tick'),
      { what: 'first ticks' },
    );
    fx.stopResource('ticker');
    expect(fx.serverLog('ticker').at(-1)).toBe('stopping ticker');
    const before = fx.logs.length;
    await sleep(100);
    expect(fx.logs.slice(before)).toEqual([]);
    expect(fx.serverLog('ticker')).not.toContain('late timeout');
    expect(fx.resourceState('ticker')).toBe('stopped');
  });

  it('reports files, metadata, states and convars', () => {
    fx.registerResource('nearest-postal', {
      files: { 'new-postals.json': '[{"x":1,"y":2,"code":"100"}]' },
      metadata: { postal_file: ['new-postals.json'] },
    });
    fx.setConvar('locked', 'secret', { readableBy: ['someone-else'] });
    fx.setConvar('shared', 'yes', { replicated: true });
    fx.startResource('reader', {
      server: `console.log(JSON.stringify({
        file: LoadResourceFile('nearest-postal', GetResourceMetadata('nearest-postal', 'postal_file', 0)),
        n: GetNumResourceMetadata('nearest-postal', 'postal_file'),
        noMeta: GetResourceMetadata('nearest-postal', 'other', 0),
        none: LoadResourceFile('nearest-postal', 'nope.json'),
        ghost: LoadResourceFile('ghost', 'x'),
        states: [GetResourceState('nearest-postal'), GetResourceState('ghost'), GetResourceState(GetCurrentResourceName())],
        key: GetConvar('sonoran_apiKey', ''), locked: GetConvar('locked', 'denied'),
        int: GetConvarInt('rate', 7), badInt: GetConvarInt('word', 7), unset: GetConvar('unset', 'dflt'),
      }));`,
      client: `console.log(GetConvar('sonoran_apiKey', 'hidden'), GetConvar('shared', 'no'));`,
    });
    const ann = join();
    expect(JSON.parse(fx.serverLog('reader')[0] ?? '')).toEqual({
      file: '[{"x":1,"y":2,"code":"100"}]',
      n: 1,
      noMeta: null,
      none: null,
      ghost: null,
      states: ['stopped', 'missing', 'starting'],
      key: 'k-1',
      locked: 'denied',
      int: 12,
      badInt: 7,
      unset: 'dflt',
    });
    expect(fx.clientLog(ann.id)).toEqual(['hidden yes']);
    expect(fx.resourceState('reader')).toBe('started');
  });
});

describe('players', () => {
  it('reports the server view, the client view and street/zone names', () => {
    fx.startResource('where', {
      server: `RegisterCommand('where', (src) => {
        const id = String(src);
        console.log(JSON.stringify({
          name: GetPlayerName(id), coords: GetEntityCoords(GetPlayerPed(id)),
          license: GetPlayerIdentifierByType(id, 'license'), steam: GetPlayerIdentifierByType(id, 'steam'),
          ids: getPlayerIdentifiers(id), n: GetNumPlayerIdentifiers(id), first: GetPlayerIdentifier(id, 0),
          players: getPlayers(), exists: DoesPlayerExist(id), ghostPed: GetPlayerPed('99'),
          ghostCoords: GetEntityCoords(0), ace: IsPlayerAceAllowed(id, 'command.x'),
          consoleAce: IsPlayerAceAllowed('0', 'anything'),
        }));
      }, false);`,
      client: `RegisterCommand('here', () => {
        const ped = PlayerPedId();
        const [x, y, z] = GetEntityCoords(ped, true);
        const [s, c] = GetStreetNameAtCoord(x, y, z);
        const zone = GetNameOfZone(x, y, z);
        console.log('here ' + JSON.stringify({
          pos: [x, y, z], heading: GetEntityHeading(ped), street: GetStreetNameFromHashKey(s),
          crossing: c === 0 ? null : GetStreetNameFromHashKey(c), zone, label: GetLabelText(zone),
          unknown: GetLabelText('NOPE'), id: GetPlayerServerId(PlayerId()), timer: typeof GetGameTimer(),
        }));
      }, false);`,
    });
    const ann = join('Ann', {
      heading: 90,
      street: 'Sinner St',
      crossing: 'Vespucci Blvd',
      zone: { code: 'DELPE', label: 'Del Perro Beach' },
    });
    const bob = join('Bob');
    bob.type('/here');
    expect(clientJson(bob, 'here ')).toMatchObject({
      street: 'Alta St',
      crossing: null,
      zone: 'ALTA',
    });
    ann.type('/here');
    expect(clientJson(ann, 'here ')).toEqual({
      pos: [100, -200, 30],
      heading: 90,
      street: 'Sinner St',
      crossing: 'Vespucci Blvd',
      zone: 'DELPE',
      label: 'Del Perro Beach',
      unknown: 'NULL',
      id: 1,
      timer: 'number',
    });
    ann.setClientPosition(1, 2, 3);
    ann.type('/here');
    ann.type('/where');
    expect(clientJson(ann, 'here ').pos).toEqual([1, 2, 3]);
    expect(JSON.parse(fx.serverLog('where')[0] ?? '')).toEqual({
      name: 'Ann',
      coords: [100, -200, 30],
      license: 'license:ann1',
      steam: null,
      ids: ['license:ann1', 'discord:3'],
      n: 2,
      first: 'license:ann1',
      players: ['1', '2'],
      exists: true,
      ghostPed: 0,
      ghostCoords: [0, 0, 0],
      ace: false,
      consoleAce: true,
    });
    ann.move(5, 6, 7);
    ann.type('/here');
    expect(clientJson(ann, 'here ').pos).toEqual([5, 6, 7]);
  });

  it('fires playerJoining/playerDropped with source and never reuses ids', async () => {
    fx.startResource('presence', {
      server: `
        on('playerJoining', () => console.log('joining', source));
        on('playerDropped', (reason) => console.log('dropped', source, reason, GetPlayerName(String(source))));
        RegisterCommand('poke', (src) => emitNet('t:poke', src), false);`,
      client: `onNet('t:poke', () => console.log('poked'));`,
    });
    const ann = join('Ann');
    const bob = join('Bob');
    ann.type('/poke');
    ann.drop('bye');
    await fx.settle();
    expect(fx.serverLog('presence')).toEqual(['joining 1', 'joining 2', 'dropped 1 bye Ann']);
    expect(fx.clientLog(ann.id)).toEqual([]);
    expect(join('Cid').id).toBe(3);
    expect(fx.players().map((p) => p.id)).toEqual([bob.id, 3]);
  });
});

describe('chat and errors', () => {
  it('records chat messages and suggestions', async () => {
    fx.startResource('talk', {
      server: `RegisterCommand('hi', (src) => {
        emitNet('chat:addMessage', src, { color: [255, 0, 0], args: ['911', 'help is coming'] });
        emitNet('chat:addMessage', src, { args: ['plain'] });
        emitNet('chat:addMessage', src, { template: '<b>{0}</b> {1}', args: ['A', 'B'] });
      }, false);`,
      client: `
        emit('chat:addSuggestion', '/911', 'Call emergency services', [{ name: 'what', help: 'What happened' }]);
        emit('chat:addSuggestion', '/old', 'gone soon', []);
        emit('chat:removeSuggestion', '/old');`,
    });
    const ann = join();
    expect([...ann.suggestions.keys()]).toEqual(['/911']);
    expect(ann.suggestions.get('/911')).toEqual({
      help: 'Call emergency services',
      params: [{ name: 'what', help: 'What happened' }],
    });
    ann.type('/hi');
    await fx.waitFor(() => ann.chat.length === 3, { what: 'three chat lines' });
    expect(ann.chat).toEqual([
      { author: '911', text: 'help is coming', color: [255, 0, 0] },
      { text: 'plain' },
      { text: '<b>A</b> B' },
    ]);
    expect(ann.chatText()[0]).toBe('911: help is coming');
  });

  it('captures script errors instead of throwing them', async () => {
    fx.startResource('faulty', {
      server: `
        on('t:sync', () => { throw new Error('sync boom'); });
        on('t:async', async () => { await null; throw new Error('async boom'); });
        onNet('t:net', () => { throw new TypeError('net boom'); });
        setTimeout(() => { throw new Error('timer boom'); }, 0);`,
      client: `RegisterCommand('web', () => fetch('http://example.invalid'), false);`,
    });
    expect(fx.startResource('broken', { server: 'throw new Error("load boom")' })).toBe(false);
    expect(fx.resourceState('broken')).toBe('stopped');
    const ann = join();
    fx.emit('t:sync');
    fx.emit('t:async');
    ann.emitNet('t:net');
    ann.type('/web');
    await fx.waitFor(() => fx.errors.length === 6, { what: 'six errors' });
    expect(fx.errors.map((e) => e.message).sort()).toEqual([
      'async boom',
      'fetch is not defined',
      'load boom',
      'net boom',
      'sync boom',
      'timer boom',
    ]);
    expect(fx.errors.find((e) => e.message === 'fetch is not defined')).toMatchObject({
      side: 'client',
      player: 1,
      where: 'command web',
    });
    fx.errors.length = 0;
  });

  it('gives the server Node globals and the client none of them', () => {
    fx.startResource('globals', {
      server: `console.log([typeof fetch, typeof require('node:crypto').randomUUID, typeof Buffer,
        typeof AbortSignal.timeout, typeof module.exports, typeof exports, typeof structuredClone,
        global === globalThis].join(' '));
        try { require('zod'); } catch (e) { console.log(e.message); }`,
      client: `console.log([typeof fetch, typeof require, typeof process, typeof window,
        typeof document, typeof XMLHttpRequest, typeof Buffer, typeof exports, typeof setTick].join(' '));`,
    });
    const ann = join();
    expect(fx.serverLog('globals')).toEqual([
      'function function function function object function function true',
      "Cannot find module 'zod' (only Node built-ins exist)",
    ]);
    expect(fx.clientLog(ann.id)).toEqual([
      'undefined undefined undefined undefined undefined undefined undefined function function',
    ]);
  });

  it('follows the host clock, fake timers included', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    try {
      vi.setSystemTime(Date.UTC(2030, 0, 1));
      fx.startResource('clock', {
        server: `
          console.log(new Date().toISOString(), new Date() instanceof Date);
          setTimeout(() => console.log('after an hour', new Date().toISOString()), 3600000);`,
      });
      await vi.advanceTimersByTimeAsync(3_600_000);
      expect(fx.serverLog('clock')).toEqual([
        '2030-01-01T00:00:00.000Z true',
        'after an hour 2030-01-01T01:00:00.000Z',
      ]);
    } finally {
      vi.useRealTimers();
    }
  });
});
