// State bags, `provide` and client blips, as FXServer has them (sandbox/emulator/
// FXSERVER-RULES.md names the source of each rule).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FxServer, type Player } from '../sandbox/emulator/index';

let fx: FxServer;
beforeEach(() => {
  fx = new FxServer();
});
afterEach(() => fx.shutdown());

const join = (name = 'Ann'): Player =>
  fx.addPlayer({ name, identifiers: [`license:${name}`], position: [1, 2, 3] });

describe('player state bags (main.js / scheduler.lua NewStateBag, ResourceScriptFunctions.cpp)', () => {
  it('a Lua resource sets isDead, a JS resource reads it', async () => {
    const p = join();
    await fx.startLuaResource(
      'ambulance',
      `RegisterNetEvent('die', function() Player(source).state:set('isDead', true, true) end)`,
    );
    fx.startResource('reader', {
      server: `onNet('ask', () => console.log('dead', Player(source).state.isDead));`,
    });
    p.emitNet('die');
    await fx.settle();
    p.emitNet('ask');
    await fx.settle();
    expect(fx.serverLog('reader')).toEqual(['dead true']);
    expect(fx.playerState(p.id, 'isDead')).toBe(true);
    expect(fx.errors).toEqual([]);
  });
});

describe('state bag semantics', () => {
  it('set, assignment, copies, nil deletes, other Player keys are null', () => {
    const p = join();
    fx.startResource('a', {
      server: `RegisterCommand('t', () => {
        const st = Player(${p.id}).state;
        const job = { name: 'police', grades: [1, 2] };
        st.set('job', job, true);
        job.name = 'changed';
        const read = Player('${p.id}').state.job;
        read.grades.push(3);
        console.log(JSON.stringify(read), JSON.stringify(st.job), read instanceof Object);
        st.onDuty = true;
        st.set('onDuty', null, true);
        console.log(st.onDuty, st.missing, Player(${p.id}).foo, GetStateBagValue('player:${p.id}', 'job').name);
        console.log(JSON.stringify(GetStateBagKeys('player:${p.id}')), StateBagHasKey('player:${p.id}', 'onDuty'));
        try { Player(${p.id}).state2 = 1; } catch (e) { console.log(e.message); }
      }, true);`,
    });
    expect(fx.console('t')).toEqual([
      '{"name":"police","grades":[1,2,3]} {"name":"police","grades":[1,2]} true',
      'null null null police',
      '["job"] false',
      'Not allowed at this time.',
    ]);
    expect(fx.playerState(p.id, 'job')).toEqual({ name: 'police', grades: [1, 2] });
    expect(fx.playerState(p.id, 'onDuty')).toBeUndefined();
  });

  it('a player without a bag: reads are null, sets do nothing (SetStateBagValue answers false)', () => {
    fx.startResource('a', {
      server: `RegisterCommand('t', () => {
        Player(42).state.set('x', 1, true);
        console.log(Player(42).state.x, SetStateBagValue('player:42', 'x', new Uint8Array([1]), 1, true));
      }, true);`,
    });
    expect(fx.console('t')).toEqual(['null false']);
    expect(fx.setPlayerState(42, 'x', 1)).toBe(false);
  });

  it('the player bag is dropped with the player, after playerDropped', () => {
    const p = join();
    fx.setPlayerState(p.id, 'isDead', true);
    fx.startResource('a', {
      server: `on('playerDropped', () => console.log('dropping', Player(source).state.isDead));`,
    });
    p.drop();
    expect(fx.serverLog('a')).toEqual(['dropping true']);
    expect(fx.playerState(p.id, 'isDead')).toBeUndefined();
  });

  it('GlobalState is the global bag', () => {
    fx.startResource('a', { server: `GlobalState.weather = 'RAIN';` });
    expect(fx.globalState('weather')).toBe('RAIN');
  });

  it('change handlers run before the value is stored, filtered, until removed or their resource stops', () => {
    const p = join();
    fx.startResource('watch', {
      server: `
        AddStateBagChangeHandler('isDead', null, (bag, key, value, reserved, replicated) => {
          console.log(bag, key, value, reserved, replicated, 'was', GetStateBagValue(bag, key), GetPlayerFromStateBagName(bag));
        });
        const other = AddStateBagChangeHandler('', 'global', (bag, key) => console.log('global', key));
        RegisterCommand('unwatch', () => RemoveStateBagChangeHandler(other), true);`,
    });
    fx.setPlayerState(p.id, 'isDead', true);
    fx.setPlayerState(p.id, 'other', 1);
    fx.startResource('setter', {
      server: `RegisterCommand('s', () => { Player(${p.id}).state.set('isDead', false, false); GlobalState.a = 1; }, true);`,
    });
    fx.console('s');
    fx.console('unwatch');
    fx.console('s');
    expect(fx.serverLog('watch')).toEqual([
      `player:${p.id} isDead true 0 true was null ${p.id}`,
      `player:${p.id} isDead false 0 false was true ${p.id}`,
      'global a',
      `player:${p.id} isDead false 0 false was false ${p.id}`,
    ]);
    fx.stopResource('watch');
    fx.setPlayerState(p.id, 'isDead', true);
    expect(fx.serverLog('watch')).toHaveLength(4);
  });

  it('Lua: state.key = v, state:set, GetStateBagValue and a change handler', async () => {
    const p = join();
    fx.setPlayerState(p.id, 'job', { name: 'ems', grade: 2 });
    await fx.startLuaResource(
      'lua',
      `AddStateBagChangeHandler('isDead', nil, function(bag, key, value, reserved, replicated)
         print('changed', bag, key, tostring(value), reserved, replicated)
       end)
       AddEventHandler('go', function(id)
         local st = Player(id).state
         print(st.job.name, math.type(st.job.grade), st.missing)
         st.isDead = true
         st:set('coords', vector3(1.5, 2, 3), true)
         GlobalState.fromLua = { 1, 2 }
         print(GetStateBagValue('player:' .. id, 'isDead'))
       end)`,
    );
    fx.emit('go', p.id);
    expect(fx.serverLog('lua')).toEqual([
      'ems\tinteger\tnil',
      `changed\tplayer:${p.id}\tisDead\ttrue\t0\ttrue`,
      'true',
    ]);
    expect(fx.playerState(p.id, 'isDead')).toBe(true);
    expect(fx.globalState('fromLua')).toEqual([1, 2]);
    expect(fx.errors).toEqual([]);
  });
});

describe('state bags on the client (StateBagComponent.cpp replication)', () => {
  const probe = `RegisterCommand('st', () => console.log(JSON.stringify([LocalPlayer.state.isDead ?? null, LocalPlayer.state.secret ?? null, GlobalState.weather ?? null, GlobalState.hidden ?? null])), false);`;

  it('LocalPlayer.state sees replicated keys of its own bag after delivery, not unreplicated ones', async () => {
    const p = join();
    fx.startResource('c', { client: probe });
    fx.startResource('s', {
      server: `RegisterCommand('set', () => {
        Player(${p.id}).state.set('isDead', true, true);
        Player(${p.id}).state.set('secret', 1, false);
        GlobalState.weather = 'RAIN';
      }, true);`,
    });
    fx.console('set');
    p.type('/st');
    await fx.settle();
    p.type('/st');
    expect(fx.clientLog(p.id, 'c')).toEqual(['[null,null,null,null]', '[true,null,"RAIN",null]']);
  });

  it('a joining client gets every key of the global bag, replicated or not (SendAll)', async () => {
    fx.startResource('s', { server: `GlobalState.set('hidden', 'h', false);` });
    const p = join();
    fx.startResource('c', { client: probe });
    p.type('/st');
    expect(fx.clientLog(p.id, 'c')).toEqual(['[null,null,null,"h"]']);
  });

  it('a client may set its own bag replicated; the server applies it later with the player as source', async () => {
    const p = join();
    const q = join('Bob');
    fx.startResource('s', {
      server: `AddStateBagChangeHandler('', '', (bag, key, value, src) => console.log(bag, key, value, src));`,
    });
    fx.startResource('c', {
      client: `RegisterCommand('go', () => {
        LocalPlayer.state.set('radio', 3, true);
        LocalPlayer.state.set('local', 1, false);
        Player(${q.id}).state.set('hack', 1, true);
        console.log(LocalPlayer.state.radio, LocalPlayer.state.local);
      }, false);`,
    });
    p.type('/go');
    expect(fx.clientLog(p.id, 'c')).toEqual(['3 1']);
    expect(fx.playerState(p.id, 'radio')).toBeUndefined();
    await fx.settle();
    expect(fx.playerState(p.id, 'radio')).toBe(3);
    expect(fx.playerState(p.id, 'local')).toBeUndefined();
    expect(fx.playerState(q.id, 'hack')).toBeUndefined();
    expect(fx.serverLog('s')).toEqual([`player:${p.id} radio 3 ${p.id}`]);
  });

  it('under setr sv_stateBagStrictMode true a client cannot set replicated', async () => {
    fx.setConvar('sv_stateBagStrictMode', 'true', { replicated: true });
    const p = join();
    fx.startResource('c', {
      client: `RegisterCommand('go', () => { LocalPlayer.state.set('radio', 3, true); console.log(LocalPlayer.state.radio); }, false);`,
    });
    p.type('/go');
    await fx.settle();
    expect(fx.clientLog(p.id, 'c')).toContain('null');
    expect(fx.playerState(p.id, 'radio')).toBeUndefined();
  });
});

describe('provide (ResourceManager.cpp GetResource withProvides, ResourceDependencyLoader.cpp)', () => {
  const qbx = {
    server: `exports('GetCoreObject', () => ({ name: 'qbx' }));`,
    metadata: { provide: ['qb-core'] },
  };

  it('GetResourceState resolves a provided name; the test API does not', async () => {
    fx.registerResource('qbx_core', qbx);
    fx.startResource('probe', {
      server: `RegisterCommand('st', () => console.log(GetResourceState('qb-core'), GetResourceState('qbx_core')), true);`,
    });
    expect(fx.console('st')).toEqual(['stopped stopped']);
    fx.startResource('qbx_core');
    expect(fx.console('st')).toEqual(['started started']);
    expect(fx.resourceState('qb-core')).toBe('missing');
    await fx.startLuaResource(
      'luaprobe',
      `AddEventHandler('p', function() print(GetResourceState('qb-core')) end)`,
    );
    fx.emit('p');
    expect(fx.serverLog('luaprobe')).toEqual(['started']);
  });

  it('a real resource of the name wins while it is not stopped; a started provider wins over a stopped one', () => {
    fx.registerResource('qbx_core', qbx);
    fx.registerResource('qb-core', { server: `` });
    fx.startResource('probe', {
      server: `RegisterCommand('st', () => console.log(GetResourceState('qb-core')), true);`,
    });
    expect(fx.console('st')).toEqual(['stopped']);
    fx.startResource('qb-core');
    expect(fx.console('st')).toEqual(['started']);
    fx.stopResource('qb-core');
    fx.startResource('qbx_core');
    expect(fx.console('st')).toEqual(['started']);
  });

  it('exports are looked up by the exact name (__cfx_export_<name>_<export>): provide does not reach them', () => {
    fx.startResource('qbx_core', qbx);
    fx.startResource('user', {
      server: `RegisterCommand('x', () => {
        console.log(exports.qbx_core.GetCoreObject().name);
        try { exports['qb-core'].GetCoreObject(); } catch (e) { console.log(e.message); }
      }, true);`,
    });
    expect(fx.console('x')).toEqual(['qbx', 'No such export GetCoreObject in resource qb-core']);
  });

  it('metadata natives and LoadResourceFile resolve provides too (MetadataScriptFunctions.cpp)', () => {
    fx.startResource('qbx_core', { ...qbx, files: { 'shared/x.txt': 'hello' } });
    fx.startResource('probe', {
      server: `RegisterCommand('m', () => console.log(GetResourceMetadata('qb-core', 'provide', 0), LoadResourceFile('qb-core', 'shared/x.txt')), true);`,
    });
    expect(fx.console('m')).toEqual(['qb-core hello']);
  });

  it('a dependency on a provided name starts the provider first; stopping it stops the dependant', () => {
    fx.registerResource('qbx_core', {
      ...qbx,
      server: `on('onResourceStart', (r) => r === 'qbx_core' && console.log('core up'));`,
    });
    expect(
      fx.startResource('job', {
        server: `console.log('job', GetResourceState('qb-core'));`,
        metadata: { dependency: ['qb-core', '/server:7290'] },
      }),
    ).toBe(true);
    expect(fx.resourceState('qbx_core')).toBe('started');
    expect(fx.serverLog('job')).toEqual(['job started']);
    fx.stopResource('qbx_core');
    expect(fx.resourceState('job')).toBe('stopped');
  });

  it('a missing dependency fails the start', () => {
    expect(
      fx.startResource('job', {
        server: `console.log('ran')`,
        metadata: { dependency: ['qb-core'] },
      }),
    ).toBe(false);
    expect(fx.resourceState('job')).toBe('stopped');
    expect(fx.serverLog('job')).toEqual([]);
    expect(fx.serverLog('fxserver')).toContain(
      'Could not find dependency qb-core for resource job.',
    );
  });
});

describe('exports through __cfx_export_<name>_<export> (main.js createExports)', () => {
  it('a provider answering the qb-core export event serves exports["qb-core"]', () => {
    fx.startResource('qbx_core', {
      metadata: { provide: ['qb-core'] },
      server: `const core = { name: 'qbx' };
        on('__cfx_export_qb-core_GetCoreObject', (setCB) => setCB(() => core));`,
    });
    fx.startResource('user', {
      server: `RegisterCommand('x', () => {
        const o = exports['qb-core'].GetCoreObject();
        console.log(o.name, o instanceof Object);
      }, true);`,
    });
    expect(fx.console('x')).toEqual(['qbx true']);
    expect(
      fx.exportsOf<{ GetCoreObject(): { name: string } }>('qb-core').GetCoreObject().name,
    ).toBe('qbx');
  });

  it('a Lua provider answering the event the way qbx_core does', async () => {
    fx.registerResource('qbx_core', { metadata: { provide: ['qb-core'] } });
    await fx.startLuaResource(
      'qbx_core',
      `AddEventHandler('__cfx_export_qb-core_GetCoreObject', function(setCB)
         setCB(function() return { name = 'qbx', n = 1 } end)
       end)`,
    );
    fx.startResource('user', {
      server: `RegisterCommand('x', () => { const o = exports['qb-core'].GetCoreObject(); console.log(o.name, o.n); }, true);`,
    });
    // (a Lua table's pairs order is unspecified, so the keys are read one by one)
    expect(fx.console('x')).toEqual(['qbx 1']);
    expect(fx.errors).toEqual([]);
  });
});

describe('client blips', () => {
  const drawer = `
    let blip = 0;
    onNet('show', (x, y, z, label) => {
      blip = AddBlipForCoord(x, y, z);
      SetBlipSprite(blip, 161);
      SetBlipColour(blip, 1);
      SetBlipScale(blip, 1.2);
      SetBlipAsShortRange(blip, false);
      SetBlipFlashes(blip, true);
      SetBlipRoute(blip, true);
      BeginTextCommandSetBlipName('STRING');
      AddTextComponentSubstringPlayerName(label);
      EndTextCommandSetBlipName(blip);
      console.log('exists', DoesBlipExist(blip));
    });
    onNet('hide', () => { RemoveBlip(blip); console.log('exists', DoesBlipExist(blip)); });`;

  it('draws a blip at coordinates with its look and name, and removes it', async () => {
    const p = join();
    fx.startResource('calls', { client: drawer });
    fx.emitClient(p.id, 'show', 10, 20.5, 30, '911: Robbery');
    await fx.settle();
    expect(p.blips).toEqual([
      {
        handle: expect.any(Number),
        resource: 'calls',
        x: 10,
        y: 20.5,
        z: 30,
        sprite: 161,
        colour: 1,
        scale: 1.2,
        name: '911: Robbery',
        shortRange: false,
        flashes: true,
        route: true,
      },
    ]);
    expect(p.blips[0]!.handle).not.toBe(0);
    fx.emitClient(p.id, 'hide');
    await fx.settle();
    expect(p.blips).toEqual([]);
    expect(fx.clientLog(p.id, 'calls')).toEqual(['exists true', 'exists false']);
  });

  it('a resource that stops takes its blips with it; other resources keep theirs', async () => {
    const p = join();
    fx.startResource('calls', { client: drawer });
    fx.startResource('other', { client: drawer });
    fx.emitClient(p.id, 'show', 1, 2, 3, 'x');
    await fx.settle();
    expect(p.blips.map((b) => b.resource)).toEqual(['calls', 'other']);
    fx.stopResource('calls');
    expect(p.blips.map((b) => b.resource)).toEqual(['other']);
  });

  it('natives on a handle that is no blip do nothing', () => {
    const p = join();
    fx.startResource('x', {
      client: `SetBlipSprite(99, 1); RemoveBlip(99); console.log(DoesBlipExist(99));`,
    });
    expect(fx.clientLog(p.id, 'x')).toEqual(['false']);
    expect(fx.errors).toEqual([]);
  });
});
