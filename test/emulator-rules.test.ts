// The emulator follows FXServer's own rules (sandbox/emulator/FXSERVER-RULES.md names the
// source of each). Each expectation here is what the cited FXServer code does.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FxServer, type Player } from '../sandbox/emulator/index';
import { tokenize } from '../sandbox/emulator/tokenize';

let fx: FxServer;
beforeEach(() => {
  fx = new FxServer();
});
afterEach(() => fx.shutdown());

const join = (name = 'Ann', aces: string[] = []): Player =>
  fx.addPlayer({ name, identifiers: [`license:${name}`], position: [1, 2, 3], aces });

describe('console tokenizer (Console.cpp Tokenize)', () => {
  it('ends the line at a word starting with # or //, keeps them inside a word', () => {
    expect(tokenize('911 Robbery at Fleeca #3 two suspects')).toEqual([
      '911',
      'Robbery',
      'at',
      'Fleeca',
    ]);
    expect(tokenize('say hi // rest')).toEqual(['say', 'hi']);
    expect(tokenize('say hi#x a//b')).toEqual(['say', 'hi#x', 'a//b']);
    expect(tokenize('say "a"#x')).toEqual(['say', 'a']);
  });

  it('removes double quotes, keeps spaces inside them, splits on a quote inside a word', () => {
    expect(tokenize('say "hello world" x')).toEqual(['say', 'hello world', 'x']);
    expect(tokenize('a"b c"d')).toEqual(['a', 'b c', 'd']);
    expect(tokenize('say "a \\"quoted\\" b')).toEqual(['say', 'a "quoted" b']);
    expect(tokenize('say ""')).toEqual(['say', '']);
    expect(tokenize("say 'a b'")).toEqual(['say', "'a", "b'"]);
  });

  it('reads a JSON value at a word start as one raw argument', () => {
    expect(tokenize('say {"a": 1, "b": "x y"} tail')).toEqual([
      'say',
      '{"a": 1, "b": "x y"}',
      'tail',
    ]);
    expect(tokenize('say [1, 2] x')).toEqual(['say', '[1, 2]', 'x']);
    expect(tokenize('say {broken json}')).toEqual(['say', '{broken', 'json}']);
  });

  it('handles /* as Console.cpp does: the whole line at the start, three characters later', () => {
    expect(tokenize('/* nothing */ say')).toEqual([]);
    expect(tokenize('say a /* block */ b')).toEqual(['say', 'a', 'block', '*/', 'b']);
    expect(tokenize('say a /*b c*/ d')).toEqual(['say', 'a', 'c*/', 'd']);
  });

  it('splits on any control character and does not split on ;', () => {
    expect(tokenize('say\ta\nb;c')).toEqual(['say', 'a', 'b;c']);
  });

  it('hands the handler the tokens and the raw line as typed', async () => {
    fx.startResource('cmd', {
      client: `RegisterCommand('Note', (src, args, raw) => console.log(JSON.stringify({ args, raw })), false);`,
    });
    const ann = join();
    ann.type('/note Fleeca #3 "two" suspects');
    expect(JSON.parse(fx.clientLog(ann.id).at(-1)!)).toEqual({
      args: ['Fleeca'],
      raw: 'note Fleeca #3 "two" suspects',
    });
  });
});

describe('command slots (ResourceScriptFunctions.cpp REGISTER_COMMAND)', () => {
  it('one name, one slot: the first owns it, the last handler runs, the owner stop removes it', () => {
    fx.startResource('first', {
      server: `RegisterCommand('dup', () => console.log('first ran'), true);`,
    });
    fx.startResource('second', {
      server: `RegisterCommand('DUP', () => console.log('second ran'), false);`,
    });
    // Case-insensitive lookup, case-sensitive handler table: 'DUP' registered nothing.
    expect(fx.registeredCommands()).toEqual([{ name: 'dup', resource: 'first', arity: -1 }]);
    fx.console('dup');
    expect(fx.serverLog('first')).toEqual(['first ran']);
    fx.startResource('third', {
      server: `RegisterCommand('dup', () => console.log('third ran'), false);`,
    });
    fx.console('dup');
    expect(fx.serverLog('third')).toEqual(['third ran']);
    fx.stopResource('first');
    expect(fx.registeredCommands()).toEqual([]);
    fx.console('dup');
    expect(fx.serverLog('third')).toEqual(['third ran']);
  });

  it('keeps a slot whose handler resource stopped, and runs nothing', () => {
    fx.startResource('owner', {
      server: `RegisterCommand('x', () => console.log('owner'), false);`,
    });
    fx.startResource('taker', {
      server: `RegisterCommand('x', () => console.log('taker'), false);`,
    });
    fx.stopResource('taker');
    fx.console('x');
    expect(fx.registeredCommands().map((c) => c.resource)).toEqual(['owner']);
    expect(fx.serverLog('owner')).toEqual([]);
  });

  it('GetRegisteredCommands answers on both sides', async () => {
    fx.startResource('lister', {
      server: `RegisterCommand('srv', () => {}, true); exports('list', () => GetRegisteredCommands());`,
      client: `RegisterCommand('cli', () => {}, false); console.log(JSON.stringify(GetRegisteredCommands()));`,
    });
    const ann = join();
    expect(fx.exportsOf('lister').list!()).toEqual([
      { name: 'srv', resource: 'lister', arity: -1 },
    ]);
    expect(JSON.parse(fx.clientLog(ann.id)[0]!)).toEqual([
      { name: 'cli', resource: 'lister', arity: -1 },
    ]);
  });
});

describe('ACE (Security.cpp CheckPrivilege)', () => {
  it('has parents but no * wildcard, and ignores case', () => {
    fx.startResource('gate', { server: `exports('may', (p, ace) => IsPlayerAceAllowed(p, ace));` });
    const may = fx.exportsOf('gate').may!;
    const star = join('Star', ['*']);
    const cop = join('Cop', ['Command']);
    expect(may(String(star.id), 'command.911')).toBe(false);
    expect(may(String(cop.id), 'command.911')).toBe(true);
    expect(may(String(cop.id), 'COMMAND.panic')).toBe(true);
    expect(may(String(cop.id), 'commander')).toBe(false);
  });

  it('the stock chat suggests every client command the client may run', async () => {
    fx.startResource('menu', {
      client: `RegisterCommand('open', () => {}, false); RegisterCommand('admin', () => {}, true);`,
    });
    const ann = join();
    await fx.waitFor(() => ann.chatRefreshes > 0, { what: 'chat refresh' });
    expect([...ann.suggestions.keys()]).toEqual(['/open']);
  });
});

describe('server natives', () => {
  it('GetEntityCoords throws on a ped that is gone; DoesEntityExist does not', () => {
    fx.startResource('ped', {
      server: `exports('where', (p) => { const ped = GetPlayerPed(p); return { exists: DoesEntityExist(ped), at: (() => { try { return GetEntityCoords(ped); } catch (e) { return String(e.message); } })() }; });`,
    });
    const ann = join();
    const where = fx.exportsOf('ped').where!;
    expect(where(String(ann.id))).toEqual({ exists: true, at: [1, 2, 3] });
    ann.losePed();
    expect(where(String(ann.id))).toEqual({
      exists: false,
      at: expect.stringMatching(/^Tried to access invalid entity: \d+$/),
    });
    // Handle 0 answers the default instead of throwing.
    expect(where('999')).toEqual({ exists: false, at: [0, 0, 0] });
  });

  it('KVP searches share 64 handles between all resources, from 0, -1 when none is free', () => {
    fx.startResource('kv', {
      server: `exports('find', () => StartFindKvp('a')); exports('end', (h) => EndFindKvp(h));`,
    });
    const kv = fx.exportsOf('kv');
    expect(kv.find!()).toBe(0);
    const release = fx.holdKvpHandles(63);
    expect(kv.find!()).toBe(-1);
    release();
    expect(kv.find!()).toBe(1);
    kv.end!(0);
    expect(kv.find!()).toBe(0);
  });

  it('getPlayers() answers strings; playerDropped sees the id as a number, natives still answer', async () => {
    fx.startResource('who', {
      server: `
        exports('ids', () => getPlayers());
        on('playerDropped', (reason) => console.log(JSON.stringify({ source, type: typeof source, name: GetPlayerName(source), reason })));`,
    });
    const ann = join();
    expect(fx.exportsOf('who').ids!()).toEqual([String(ann.id)]);
    ann.drop('bye');
    expect(JSON.parse(fx.serverLog('who').at(-1)!)).toEqual({
      source: ann.id,
      type: 'number',
      name: 'Ann',
      reason: 'bye',
    });
  });
});

describe('timers (timer.js)', () => {
  it('clearTimeout needs the handle: its number clears nothing; setImmediate is a timeout', async () => {
    fx.startResource('t', {
      server: `
        const a = setTimeout(() => console.log('a fired'), 5);
        const b = setTimeout(() => console.log('b fired'), 5);
        clearTimeout(Number(a));
        clearTimeout(b);
        const c = setImmediate(() => console.log('c fired'));
        console.log('ids', typeof a.id, a.hasRef(), typeof c.id);`,
    });
    await fx.waitFor(
      () => fx.serverLog('t').includes('a fired') && fx.serverLog('t').includes('c fired'),
      {
        what: 'timers',
      },
    );
    expect(fx.serverLog('t')).not.toContain('b fired');
    expect(fx.serverLog('t')[0]).toBe('ids number true number');
  });
});
