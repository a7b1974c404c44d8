// sonorancad's push events, re-raised as local events, read into closed / unitAttached.
import { describe, expect, it } from 'vitest';
import {
  callIdOf,
  createPushEvents,
  PushEventNames,
  SONORANCAD,
  unitNameOf,
} from '../../server/pushevents';

const DISPATCH = PushEventNames.dispatch;
const ATTACH = PushEventNames.unitAttach;

/** A call as sonorancad's Get Calls poll caches it (get-calls.md ActiveCalls). */
const call = (over: Record<string, unknown> = {}) => ({
  callId: 501,
  origin: 0,
  status: 1,
  priority: 1,
  title: '911 call',
  notes: [],
  idents: [],
  metaData: [],
  ...over,
});
/** A unit as EVENT_UNIT_LOGIN sends it (unit-login.md). */
const unit = (name: unknown = 'Jo Blake') => ({
  id: 101,
  status: 2,
  data: { unitNum: 'A-10', name, department: 'LSPD' },
  isDispatch: false,
});

function world(state: () => string = () => 'started') {
  const handlers = new Map<string, ((...args: unknown[]) => void)[]>();
  const lines: { level: string; text: string }[] = [];
  const closed: (number | string)[] = [];
  const attached: [number | string, string | null][] = [];
  let consumerThrows = false;
  const push = createPushEvents({
    on(event, handler) {
      handlers.set(event, [...(handlers.get(event) ?? []), handler]);
    },
    resourceState: (name) => (name === SONORANCAD ? state() : 'missing'),
    log: {
      info: (text) => lines.push({ level: 'info', text }),
      warn: (text) => lines.push({ level: 'warn', text }),
      error: (text) => lines.push({ level: 'error', text }),
    },
    closed(callId) {
      if (consumerThrows) throw new Error('consumer broke\nstack');
      closed.push(callId);
    },
    unitAttached(callId, name) {
      if (consumerThrows) throw new Error('consumer broke');
      attached.push([callId, name]);
    },
  });
  return {
    push,
    handlers,
    lines,
    closed,
    attached,
    breakConsumer: () => {
      consumerThrows = true;
    },
    /** Raises a local event as FXServer would: every handler, in order. */
    emit(event: string, ...args: unknown[]): void {
      for (const h of handlers.get(event) ?? []) h(...args);
    },
  };
}

describe('createPushEvents: subscribing', () => {
  it('listens to exactly the two events it names, once, and only after start', () => {
    const w = world();
    expect(w.push.events).toEqual([
      'SonoranCAD::pushevents:DispatchEvent',
      'SonoranCAD::pushevents:UnitAttach',
    ]);
    expect(w.handlers.size).toBe(0);
    w.push.start();
    w.push.start();
    expect([...w.handlers.keys()]).toEqual(w.push.events);
    for (const list of w.handlers.values()) expect(list).toHaveLength(1);
  });
});

describe('createPushEvents: a call closed', () => {
  it('reads CALL_CLOSE as sonorancad raises it (httpd.lua EVENT_DISPATCH_CLOSED)', () => {
    const w = world();
    w.push.start();
    w.emit(DISPATCH, { dispatch_type: 'CALL_CLOSE', dispatch: call({ status: 2 }) });
    expect(w.closed).toEqual([501]);
  });

  it('reads a numeric dispatch_type as dispatchnotify does (2 = CALL_CLOSE)', () => {
    const w = world();
    w.push.start();
    w.emit(DISPATCH, { dispatch_type: 2, dispatch: call({ callId: 7 }) });
    w.emit(DISPATCH, { dispatch_type: 0, dispatch: call({ callId: 8 }) });
    w.emit(DISPATCH, { dispatch_type: 99, dispatch: call({ callId: 9 }) });
    expect(w.closed).toEqual([7]);
  });

  it('ignores new calls, notes and open edits; an edit that reads CLOSED is a close', () => {
    const w = world();
    w.push.start();
    for (const type of ['CALL_NEW', 'CALL_EDIT', 'CALL_NOTE', 'CALL_SELF_CLEAR', undefined])
      w.emit(DISPATCH, { dispatch_type: type, dispatch: call() });
    expect(w.closed).toEqual([]);
    w.emit(DISPATCH, { dispatch_type: 'CALL_EDIT', dispatch: call({ callId: 12, status: 2 }) });
    expect(w.closed).toEqual([12]);
  });

  it('unwraps a call nested once more, and takes a digit-string id as a number', () => {
    const w = world();
    w.push.start();
    w.emit(DISPATCH, { dispatch_type: 'CALL_CLOSE', dispatch: { dispatch: call({ callId: 3 }) } });
    w.emit(DISPATCH, { dispatch_type: 'CALL_CLOSE', dispatch: call({ callId: ' 44 ' }) });
    expect(w.closed).toEqual([3, 44]);
  });

  it('drops a close without a usable call id, and says so once', () => {
    const w = world();
    w.push.start();
    for (const callId of [0, -1, 1.5, NaN, Infinity, 2 ** 53, 'abc', '1e3', '', null, {}, []])
      w.emit(DISPATCH, { dispatch_type: 'CALL_CLOSE', dispatch: call({ callId }) });
    w.emit(DISPATCH, { dispatch_type: 'CALL_CLOSE' });
    w.emit(DISPATCH, { dispatch_type: 'CALL_CLOSE', dispatch: 'x' });
    expect(w.closed).toEqual([]);
    const warns = w.lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]!.text).toContain('CALL_CLOSE without a call id');
  });

  it('never throws on arguments that are not a call at all', () => {
    const w = world();
    w.push.start();
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('getter trap');
        },
        has() {
          throw new Error('has trap');
        },
      },
    );
    for (const arg of [undefined, null, 1, 'CALL_CLOSE', [], [call()], hostile])
      expect(() => w.emit(DISPATCH, arg)).not.toThrow();
    expect(() => w.emit(DISPATCH)).not.toThrow();
    expect(w.closed).toEqual([]);
  });
});

describe('createPushEvents: a unit attached', () => {
  it('reads UnitAttach(cache entry, unit) as httpd.lua raises it', () => {
    const w = world();
    w.push.start();
    // The poll caches { dispatch = call } without a type; a pushed edit adds CALL_EDIT.
    w.emit(ATTACH, { dispatch: call() }, unit());
    w.emit(ATTACH, { dispatch_type: 'CALL_EDIT', dispatch: call({ callId: 502 }) }, unit('Al'));
    expect(w.attached).toEqual([
      [501, 'Jo Blake'],
      [502, 'Al'],
    ]);
  });

  it('passes the call on with a null name when the unit has none it can show', () => {
    const w = world();
    w.push.start();
    for (const u of [undefined, null, 'x', {}, unit(''), unit('  '), unit(42), { data: [] }])
      w.emit(ATTACH, { dispatch: call() }, u);
    expect(w.attached).toHaveLength(8);
    expect(w.attached.every(([id, name]) => id === 501 && name === null)).toBe(true);
  });

  it('cleans the name to one plain line and caps it', () => {
    expect(unitNameOf(unit('Jo\u202e\n  Blake^1'))).toBe('Jo Blake');
    expect(unitNameOf({ name: 'Top level' })).toBe('Top level');
    expect(unitNameOf(unit('x'.repeat(300)))!.length).toBeLessThanOrEqual(64);
    // A CAD name is not a player's words: a leading tag stays.
    expect(unitNameOf(unit('[K9] Rex'))).toBe('[K9] Rex');
  });

  it('drops an attach without a call id, and says so once', () => {
    const w = world();
    w.push.start();
    w.emit(ATTACH, undefined, unit());
    w.emit(ATTACH, { dispatch: call({ callId: null }) }, unit());
    w.emit(ATTACH, 'CALL', unit());
    expect(w.attached).toEqual([]);
    expect(w.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });
});

describe('createPushEvents: only while sonorancad runs', () => {
  it('ignores both events while sonorancad is not started (someone else raised them)', () => {
    for (const state of ['missing', 'stopped', 'starting', 'stopping', 'unknown']) {
      const w = world(() => state);
      w.push.start();
      w.emit(DISPATCH, { dispatch_type: 'CALL_CLOSE', dispatch: call() });
      w.emit(ATTACH, { dispatch: call() }, unit());
      expect(w.closed).toEqual([]);
      expect(w.attached).toEqual([]);
      expect(w.push.active()).toBe(false);
      expect(w.lines).toEqual([]);
    }
  });

  it('treats a throwing resourceState as sonorancad absent', () => {
    const w = world(() => {
      throw new Error('native failed');
    });
    expect(() => w.push.start()).not.toThrow();
    w.emit(DISPATCH, { dispatch_type: 'CALL_CLOSE', dispatch: call() });
    expect(w.closed).toEqual([]);
    expect(w.push.active()).toBe(false);
  });

  it('a consumer that throws is said once; later events still reach it', () => {
    const w = world();
    w.push.start();
    w.breakConsumer();
    expect(() => w.emit(DISPATCH, { dispatch_type: 'CALL_CLOSE', dispatch: call() })).not.toThrow();
    expect(() => w.emit(DISPATCH, { dispatch_type: 'CALL_CLOSE', dispatch: call() })).not.toThrow();
    expect(() => w.emit(ATTACH, { dispatch: call() }, unit())).not.toThrow();
    const warns = w.lines.filter((l) => l.level === 'warn').map((l) => l.text);
    expect(warns).toEqual([
      `handling ${DISPATCH} failed (consumer broke); later ones are still handled`,
      `handling ${ATTACH} failed (consumer broke); later ones are still handled`,
    ]);
  });
});

describe('createPushEvents: saying when sonorancad comes and goes', () => {
  it('says once at start that sonorancad is found', () => {
    const w = world();
    w.push.start();
    w.push.resourceStarted(SONORANCAD);
    expect(w.push.active()).toBe(true);
    expect(w.lines).toHaveLength(1);
    expect(w.lines[0]!.level).toBe('info');
    expect(w.lines[0]!.text).toMatch(/^sonorancad found: /);
    expect(w.lines[0]!.text).toContain('we open no receiver of our own');
  });

  it('follows stops and starts, each said once; other resources change nothing', () => {
    let state = 'missing';
    const w = world(() => state);
    w.push.start();
    expect(w.lines).toEqual([]);
    w.push.resourceStarted('qbx_core');
    w.push.resourceStopped('qbx_core');
    expect(w.lines).toEqual([]);
    expect(w.push.active()).toBe(false);

    state = 'started';
    w.push.resourceStarted(SONORANCAD);
    w.push.resourceStarted(SONORANCAD);
    expect(w.push.active()).toBe(true);
    state = 'stopping';
    w.push.resourceStopped(SONORANCAD);
    w.push.resourceStopped(SONORANCAD);
    expect(w.push.active()).toBe(false);
    state = 'started';
    w.push.resourceStarted(SONORANCAD);
    expect(w.lines.map((l) => l.level)).toEqual(['info', 'warn', 'info']);
    expect(w.lines[1]!.text).toBe(
      'sonorancad stopped: call closes and units responding are not known until it is back',
    );
  });

  it('an event heard while sonorancad runs counts as found, even without its start', () => {
    let state = 'missing';
    const w = world(() => state);
    w.push.start();
    state = 'started';
    w.emit(ATTACH, { dispatch: call() }, unit());
    w.emit(ATTACH, { dispatch: call() }, unit());
    expect(w.push.active()).toBe(true);
    expect(w.lines.filter((l) => l.level === 'info')).toHaveLength(1);
  });

  it('says nothing and subscribes nothing before start', () => {
    const w = world();
    w.push.resourceStarted(SONORANCAD);
    w.push.resourceStopped(SONORANCAD);
    expect(w.lines).toEqual([]);
    expect(w.push.active()).toBe(false);
  });
});

describe('callIdOf', () => {
  it('takes positive safe integers, as numbers or digit strings', () => {
    expect(callIdOf(501)).toBe(501);
    expect(callIdOf(501.0)).toBe(501);
    expect(callIdOf('0501')).toBe(501);
    for (const bad of [0, -3, 0.5, '5a', '-5', ' ', '1'.repeat(16), true, undefined])
      expect(callIdOf(bad)).toBeNull();
  });
});
