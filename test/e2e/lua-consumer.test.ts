// A Lua resource calling our exports, run in the emulator's Lua 5.4 VM: its tables reach the
// resource as lua-cmsgpack encodes them (vector3 → ext 21, {} → [], GetPlayers() ids as
// strings) and its callbacks are Lua functions called back later through references.
import { afterEach, describe, expect, it } from 'vitest';
import { bankRobber, RESOURCE, type Rig, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

interface Answer {
  ok: boolean;
  id?: string;
  position?: number;
  error?: string;
}
interface Result {
  ok: boolean;
  id: string;
  callId?: number;
  error?: string;
}
interface LuaConsumer {
  answers(): Answer[];
  results(): Result[];
}

/** Starts a Lua resource running `body` with `id` bound to the connected player's id. */
async function luaConsumer(body: string): Promise<{ api: LuaConsumer; playerId: number }> {
  rig = await startRig();
  const player = rig.fx.addPlayer(bankRobber);
  await rig.fx.waitFor(() => player.hasClientCommand('911'), { what: 'client ready' });
  const source = `
    local answers, results = {}, {}
    exports('answers', function() return answers end)
    exports('results', function() return results end)
    local function keep(result)
      results[#results + 1] = { ok = result.ok, id = result.id, callId = result.callId, error = result.error }
    end
    local id = ${player.id}
    ${body}`;
  expect(await rig.fx.startLuaResource('lua-robbery', source)).toBe(true);
  return { api: rig.fx.exportsOf<LuaConsumer>('lua-robbery'), playerId: player.id };
}

/** The CAD call with this title, once the callback has been told about it. */
async function delivered(api: LuaConsumer, title: string) {
  await rig!.fx.waitFor(() => api.results().length >= 1, { what: 'the Lua callback' });
  const call = rig!.cad.calls.find((c) => c.body.title === title);
  expect(call, `CAD call "${title}"`).toBeDefined();
  return call!;
}

describe('a Lua resource using the exports', () => {
  it('creates a call for a player and gets the callId in its Lua callback', async () => {
    const { api, playerId } = await luaConsumer(`
      answers[1] = exports['${RESOURCE}']:createDispatchCall(
        { title = 'Store alarm', playerId = id, metaData = { store = 'LTD Grove St' } },
        function(result) keep(result) end)`);
    const [answer] = api.answers();
    expect(answer, JSON.stringify(answer)).toMatchObject({ ok: true, position: 1 });
    const call = await delivered(api, 'Store alarm');
    expect(api.results()).toEqual([{ ok: true, id: answer!.id, callId: call.callId }]);
    expect(call.body).toMatchObject({
      metaData: {
        store: 'LTD Grove St',
        callerPlayerId: String(playerId),
        resource: 'lua-robbery',
      },
    });
    expect(rig!.fx.errors).toEqual([]);
  });

  it('reports for a player as /911 would', async () => {
    const { api } = await luaConsumer(`
      answers[1] = exports['${RESOURCE}']:report911(id, 'Someone is breaking into my car',
        function(result) keep(result) end)`);
    expect(api.answers()[0], JSON.stringify(api.answers()[0])).toMatchObject({ ok: true });
    const call = await rig!.fx.waitFor(
      () => rig!.cad.calls.find((c) => c.body.description === 'Someone is breaking into my car'),
      { what: 'the 911 call' },
    );
    await rig!.fx.waitFor(() => api.results().length === 1, { what: 'the Lua callback' });
    expect(api.results()[0]).toMatchObject({ ok: true, callId: call!.callId });
    expect(rig!.fx.errors).toEqual([]);
  });

  // The shapes below are what Lua really sends; the resource must accept them.
  it('accepts coords from GetEntityCoords (a vector3, msgpack ext 21)', async () => {
    const { api } = await luaConsumer(`
      answers[1] = exports['${RESOURCE}']:createDispatchCall({
        title = 'Vector alarm', coords = GetEntityCoords(GetPlayerPed(id)),
        communityUserIds = { 'dispatch' },
      }, keep)`);
    expect(api.answers()[0], JSON.stringify(api.answers()[0])).toMatchObject({ ok: true });
    const call = await delivered(api, 'Vector alarm');
    // float32 components, as cfxLua vectors hold them
    expect(call.body.metaData).toMatchObject({ x: expect.stringMatching(/^425\.1/) });
    expect(call.body).toMatchObject({ postal: '8055' });
  });

  it('accepts metaData = {} and notes = {} (an empty Lua table arrives as [])', async () => {
    const { api } = await luaConsumer(`
      answers[1] = exports['${RESOURCE}']:createDispatchCall({
        title = 'Empty tables', playerId = id, metaData = {}, notes = {},
      }, keep)`);
    expect(api.answers()[0], JSON.stringify(api.answers()[0])).toMatchObject({ ok: true });
    const call = await delivered(api, 'Empty tables');
    expect(call.body.notes).toEqual([]);
  });

  it('accepts playerId = GetPlayers()[1] (a string id)', async () => {
    const { api, playerId } = await luaConsumer(`
      answers[1] = exports['${RESOURCE}']:createDispatchCall({
        title = 'String id', playerId = GetPlayers()[1],
      }, keep)`);
    expect(api.answers()[0], JSON.stringify(api.answers()[0])).toMatchObject({ ok: true });
    const call = await delivered(api, 'String id');
    expect(call.body.metaData).toMatchObject({ callerPlayerId: String(playerId) });
  });
});
