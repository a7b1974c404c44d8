// The sonorancad stand-in (Lua, in the emulator) raises its push events with the real
// argument shapes, as a JS resource on the same server hears them; replayed into
// createPushEvents, they become closed / unitAttached.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FxServer } from '../../sandbox/emulator/index';
import { SonorancadStandIn } from '../../sandbox/sonorancad';
import { createPushEvents, PushEventNames, SONORANCAD } from '../../server/pushevents';

const LISTENED = [
  PushEventNames.dispatch,
  PushEventNames.unitAttach,
  'SonoranCAD::pushevents:UnitLogin',
  'SonoranCAD::pushevents:CallCacheUpdated',
];

interface Heard {
  event: string;
  source: unknown;
  args: unknown[];
}

/** A JS resource listening with plain `on`, as ours will. */
function listen(fx: FxServer): () => Heard[] {
  fx.startResource('listener', {
    server: `
      const heard = [];
      for (const event of ${JSON.stringify(LISTENED)}) {
        on(event, (...args) => { heard.push(JSON.stringify({ event, source, args })); });
      }
      exports('heard', () => heard.splice(0));
    `,
  });
  return () =>
    (fx.exportsOf<{ heard: () => string[] }>('listener').heard() ?? []).map(
      (line) => JSON.parse(line) as Heard,
    );
}

/** Only the events createPushEvents reads. */
const pushes = (heard: Heard[]) =>
  heard.filter((h) => h.event === PushEventNames.dispatch || h.event === PushEventNames.unitAttach);

/** createPushEvents fed what the listener heard, with the emulator's resource states. */
function replay(fx: FxServer, heard: Heard[]) {
  const handlers = new Map<string, (...args: unknown[]) => void>();
  const closed: (number | string)[] = [];
  const attached: [number | string, string | null][] = [];
  const push = createPushEvents({
    on: (event, handler) => handlers.set(event, handler),
    resourceState: (name) => fx.resourceState(name),
    log: { info() {}, warn() {}, error() {} },
    closed: (id) => closed.push(id),
    unitAttached: (id, unit) => attached.push([id, unit]),
  });
  push.start();
  for (const h of heard) handlers.get(h.event)?.(...h.args);
  return { closed, attached };
}

let fx: FxServer;
let heard: () => Heard[];
beforeEach(async () => {
  fx = new FxServer();
  await SonorancadStandIn.start(fx);
  heard = listen(fx);
});
afterEach(() => {
  expect(fx.errors.map((e) => e.message)).toEqual([]);
  fx.shutdown();
});

describe('sonorancad stand-in: a dispatcher closes a call', () => {
  it('raises DispatchEvent with one { dispatch_type: CALL_CLOSE, dispatch: call } argument', async () => {
    await SonorancadStandIn.knowCall(fx, 501, '911 call');
    expect(heard()).toEqual([]); // the poll fills the cache in silence
    expect(await SonorancadStandIn.closeCall(fx, 501)).toEqual({ ok: true });
    const got = heard();
    expect(got.map((h) => h.event)).toEqual([
      'SonoranCAD::pushevents:CallCacheUpdated',
      PushEventNames.dispatch,
    ]);
    const close = got[1]!;
    expect(close.source).toBe('');
    expect(close.args).toHaveLength(1);
    expect(close.args[0]).toEqual({
      dispatch_type: 'CALL_CLOSE',
      dispatch: expect.objectContaining({ callId: 501, status: 2, title: '911 call' }),
    });
    // As Get Calls lists a call; Lua's empty tables arrive as [] (lua-cmsgpack).
    expect(close.args[0]).toMatchObject({
      dispatch: {
        origin: 0,
        priority: 1,
        notes: [],
        idents: [],
        metaData: [],
        updated: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      },
    });
    expect(replay(fx, got).closed).toEqual([501]);
  });

  it('raises nothing for a call not in its cache (the poll has not seen it yet)', async () => {
    expect(await SonorancadStandIn.closeCall(fx, 777)).toEqual({
      ok: false,
      reason: 'unknown call close',
    });
    expect(heard()).toEqual([]);
  });

  it('of several closed ids raises only the first, and nothing when the first is unknown', async () => {
    await SonorancadStandIn.knowCall(fx, 1);
    await SonorancadStandIn.knowCall(fx, 2);
    await SonorancadStandIn.push(fx, 'EVENT_DISPATCH_CLOSED', { callIds: [1, 2] });
    await SonorancadStandIn.push(fx, 'EVENT_DISPATCH_CLOSED', { callIds: [3, 2] });
    const got = pushes(heard());
    expect(got).toHaveLength(1);
    expect(replay(fx, got).closed).toEqual([1]);
  });

  it('forgets its cache when restarted: a close right after raises nothing', async () => {
    await SonorancadStandIn.knowCall(fx, 501);
    fx.stopResource(SONORANCAD);
    await SonorancadStandIn.start(fx);
    await SonorancadStandIn.closeCall(fx, 501);
    expect(pushes(heard())).toEqual([]);
  });
});

describe('sonorancad stand-in: a dispatcher attaches a unit', () => {
  it('raises UnitAttach(call cache entry, unit cache entry)', async () => {
    await SonorancadStandIn.knowCall(fx, 501);
    expect(await SonorancadStandIn.attachUnit(fx, 501, 'Jo Blake')).toEqual({ ok: true });
    const got = heard();
    expect(got.map((h) => h.event)).toEqual([
      'SonoranCAD::pushevents:UnitLogin',
      PushEventNames.unitAttach,
      'SonoranCAD::pushevents:CallCacheUpdated',
    ]);
    const attach = got[1]!;
    expect(attach.args).toHaveLength(2);
    const [call, unit] = attach.args as [Record<string, unknown>, Record<string, unknown>];
    // As the poll cached it: no dispatch_type, and the ident is added only after the event.
    expect(Object.keys(call)).toEqual(['dispatch']);
    expect(call.dispatch).toMatchObject({ callId: 501, status: 1, idents: [] });
    expect(unit).toMatchObject({
      id: 101,
      isDispatch: false,
      data: { name: 'Jo Blake', unitNum: 'A-101' },
    });
    expect(replay(fx, got).attached).toEqual([[501, 'Jo Blake']]);
  });

  it('a second unit sees the call as the first attach left it (CALL_EDIT, its ident)', async () => {
    await SonorancadStandIn.knowCall(fx, 501);
    await SonorancadStandIn.attachUnit(fx, 501, 'Jo Blake');
    await SonorancadStandIn.attachUnit(fx, 501, 'Al Vega');
    await SonorancadStandIn.attachUnit(fx, 501, 'Jo Blake');
    const got = pushes(heard());
    expect(got).toHaveLength(3);
    expect(got[1]!.args[0]).toMatchObject({
      dispatch_type: 'CALL_EDIT',
      dispatch: { callId: 501, idents: [101] },
    });
    expect(got[2]!.args[0]).toMatchObject({ dispatch: { idents: [101, 102] } });
    expect(replay(fx, got).attached).toEqual([
      [501, 'Jo Blake'],
      [501, 'Al Vega'],
      [501, 'Jo Blake'],
    ]);
  });

  it('raises nothing for a call not in its cache', async () => {
    expect(await SonorancadStandIn.attachUnit(fx, 888, 'Jo Blake')).toEqual({
      ok: false,
      reason: 'invalid call or unit',
    });
    expect(pushes(heard())).toEqual([]);
  });

  it('closing after attaching: the close carries the idents, the replay reads both', async () => {
    await SonorancadStandIn.knowCall(fx, 501);
    await SonorancadStandIn.attachUnit(fx, 501, 'Jo Blake');
    await SonorancadStandIn.closeCall(fx, 501);
    const got = pushes(heard());
    expect(got[1]!.args[0]).toMatchObject({
      dispatch_type: 'CALL_CLOSE',
      dispatch: { callId: 501, status: 2, idents: [101] },
    });
    const out = replay(fx, got);
    expect(out.attached).toEqual([[501, 'Jo Blake']]);
    expect(out.closed).toEqual([501]);
  });
});

describe('sonorancad stand-in: who may raise these', () => {
  it('a client raising the event over the network does not reach a plain `on` handler', async () => {
    const player = fx.addPlayer({ name: 'eve', identifiers: ['license:e'], position: [0, 0, 0] });
    player.emitNet(PushEventNames.dispatch, {
      dispatch_type: 'CALL_CLOSE',
      dispatch: { callId: 501 },
    });
    await fx.settle();
    expect(pushes(heard())).toEqual([]);
  });

  it('events replayed while sonorancad is stopped are ignored', async () => {
    await SonorancadStandIn.knowCall(fx, 501);
    await SonorancadStandIn.closeCall(fx, 501);
    const got = pushes(heard());
    fx.stopResource(SONORANCAD);
    expect(replay(fx, got).closed).toEqual([]);
  });
});
