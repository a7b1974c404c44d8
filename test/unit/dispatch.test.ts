import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../sandbox/support/clock';
import { dispatchCall, schedulerOptions } from '../../sandbox/support/fixtures';
import { type CallMeta, type CallResult, createDispatch, DROPPED } from '../../server/dispatch';
import type { World } from '../../server/world';
import type { DispatchCall } from '../../shared/call/contract';
import { defaultMessages, formatWait } from '../../shared/config/locale';
import { KvpSearchBusy, MemoryStore } from '../../shared/delivery/outbox';
import type { HttpAttempt } from '../../shared/delivery/outcome';

const call = (title = '911 Call'): DispatchCall =>
  dispatchCall({
    title,
    address: 'Alta St, Downtown',
    postal: '8055',
    description: 'shots fired',
    communityUserIds: ['dispatch'],
  });
const jo: CallMeta = {
  player: 3,
  playerKey: 'license:abc',
  callerName: 'Jo',
  source: '/911',
};

/** What the CAD answers, as in sandbox/cad. */
const created = (callId: number): HttpAttempt => ({
  kind: 'response',
  status: 201,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ callId }),
});
const problem = (status: number, detail: string): HttpAttempt => ({
  kind: 'response',
  status,
  headers: { 'content-type': 'application/problem+json', 'x-kong-request-id': 'kong-1' },
  body: JSON.stringify({ title: 'Problem', status, detail, traceId: 'trace-1' }),
});
const tooMany: HttpAttempt = {
  kind: 'response',
  status: 429,
  headers: { 'retry-after': '30' },
  body: JSON.stringify({ message: 'API rate limit exceeded' }),
};

/** A store whose KVP search is busy (every handle taken) the first `busy` listings. */
class BusyStore extends MemoryStore {
  constructor(public busy: number) {
    super();
  }
  override keys(prefix: string): string[] {
    if (this.busy > 0) {
      this.busy--;
      throw new KvpSearchBusy(prefix);
    }
    return super.keys(prefix);
  }
}

interface RigOptions {
  store?: MemoryStore;
  /** The licence of whoever now has server id 3. */
  license?: string;
  maxQueue?: number;
}

/** The dispatch with every part it touches faked; the CAD answers after 100 ms of fake time. */
function rig(answer: (c: DispatchCall, n: number) => HttpAttempt, opts: RigOptions = {}) {
  const clock = new FakeClock();
  const store = opts.store ?? new MemoryStore();
  const told: { player: number; key: string; vars?: Record<string, string | number> }[] = [];
  const events: unknown[][] = [];
  const logs: string[] = [];
  const sent: { title: string; at: number }[] = [];
  const watched: string[] = [];
  const world = {
    playerExists: (p: number) => p === 3,
    identifiers: () => [opts.license ?? 'license:abc', 'ip:127.0.0.1'],
  } as unknown as World;
  const dispatch = createDispatch(
    {
      send: (c) => {
        const reply = answer(c, sent.length);
        sent.push({ title: c.title, at: clock.now() });
        return new Promise((resolve) => clock.timers_.set(() => resolve(reply), 100));
      },
      store,
      world,
      log: {
        info: (m) => logs.push(`info: ${m}`),
        warn: (m) => logs.push(`warn: ${m}`),
        error: (m) => logs.push(`error: ${m}`),
      },
      notifier: {
        messages: defaultMessages,
        tell: (player, key, vars) => told.push(vars ? { player, key, vars } : { player, key }),
      },
      emitLocal: (...args) => events.push(args),
      now: clock.now,
      timers: clock.timers_,
      random: () => 0.5,
      watch: {
        created: (id, callId) => watched.push(`created ${id} #${callId}`),
        ended: (id) => watched.push(`ended ${id}`),
        deadLetter: (id, source, detail) => watched.push(`dead ${id} ${source}: ${detail}`),
        keyRefused: () => watched.push('key refused'),
        queueHalf: (length, max) => watched.push(`half ${length}/${max}`),
      },
    },
    schedulerOptions(opts.maxQueue ? { maxQueue: opts.maxQueue } : {}),
  );
  const results: CallResult[] = [];
  const add = (id: string, title?: string, meta: CallMeta = jo, holdMs = 0) =>
    dispatch.enqueue(id, call(title), { ...meta }, holdMs, (r) => results.push(r));
  return { clock, store, told, events, logs, sent, dispatch, results, add, watched };
}

describe('dispatch watch (responders, staff)', () => {
  it('tells who watches of a created call, a dead letter and a refused key', async () => {
    const answers = [created(1001), problem(400, 'postal unknown'), problem(401, 'bad key')];
    const r = rig((_c, n) => answers[n] ?? created(1));
    for (const id of ['a', 'b', 'c']) {
      r.add(id);
      await r.clock.advance(1_000);
    }
    expect(r.watched).toEqual([
      'created a #1001',
      'ended b',
      expect.stringMatching(/^dead b \/911: HTTP 400, postal unknown, traceId=/),
      'key refused',
    ]);
  });

  it('says the queue passed half once per crossing', async () => {
    const r = rig(() => created(1), { maxQueue: 4 });
    for (const id of ['a', 'b', 'c', 'd']) r.add(id);
    expect(r.watched).toEqual(['half 3/4']);
    await r.clock.advance(10 * 60_000);
    for (const id of ['e', 'f', 'g']) r.add(id);
    expect(r.watched.filter((w) => w.startsWith('half'))).toEqual(['half 3/4', 'half 3/4']);
  });
});

describe('dispatch', () => {
  it('tells the player the CAD number, fires callCreated and the callback once', async () => {
    const r = rig(() => created(1001));
    expect(r.add('call-1')).toMatchObject({ ok: true, position: 0 });
    await r.clock.advance(1_000);
    expect(r.sent).toEqual([{ title: '911 Call', at: 0 }]);
    expect(r.told).toEqual([{ player: 3, key: 'created', vars: { callId: 1001 } }]);
    expect(r.events).toEqual([['sonoran911:callCreated', 'call-1', 1001, call()]]);
    expect(r.results).toEqual([{ ok: true, id: 'call-1', callId: 1001 }]);
    expect(r.logs).toEqual([
      'info: call call-1 (/911 from Jo) created as CAD call #1001 after 1 attempt(s)',
    ]);
    await r.clock.advance(120_000);
    expect(r.results).toHaveLength(1);
    expect(r.sent).toHaveLength(1);
    expect(r.store.keys('outbox:call:')).toEqual([]);
  });

  it('keeps a 400 as a dead letter and tells player, event and callback the CAD detail', async () => {
    const r = rig(() => problem(400, 'postal is not a known postal'));
    r.add('call-bad');
    await r.clock.advance(1_000);
    expect(r.told).toEqual([
      { player: 3, key: 'rejected', vars: { reason: 'postal is not a known postal' } },
    ]);
    expect(r.events).toEqual([
      ['sonoran911:callFailed', 'call-bad', 'postal is not a known postal'],
    ]);
    expect(r.results).toEqual([
      { ok: false, id: 'call-bad', error: 'postal is not a known postal' },
    ]);
    const dead = r.dispatch.scheduler.deadLetters();
    expect(dead.map((d) => d.job.id)).toEqual(['call-bad']);
    expect(r.logs).toEqual([
      'error: CAD refused call call-bad for good, kept as a dead letter (sonoran911 retry call-bad to send it again): HTTP 400, postal is not a known postal, traceId=trace-1, x-kong-request-id=kong-1',
    ]);
    // Refused for good: never sent again on its own.
    await r.clock.advance(600_000);
    expect(r.sent).toHaveLength(1);
  });

  it('says "created" without a number when the body of a 201 was lost', async () => {
    const r = rig(() => ({ ...created(1002), bodyLost: 'connection reset' }));
    r.add('call-lost');
    await r.clock.advance(1_000);
    expect(r.told).toEqual([{ player: 3, key: 'createdNoNumber', vars: {} }]);
    expect(r.events).toEqual([['sonoran911:callCreated', 'call-lost', 'unknown', call()]]);
    expect(r.results).toEqual([{ ok: true, id: 'call-lost', callId: 'unknown' }]);
    expect(r.sent).toHaveLength(1);
  });

  it('tells the player once that a failing call is delayed, then the number', async () => {
    const r = rig((_c, n) => (n < 2 ? problem(500, 'database down') : created(1003)));
    r.add('call-500');
    await r.clock.advance(60_000);
    expect(r.sent).toHaveLength(3);
    expect(r.told.map((t) => t.key)).toEqual(['delayed', 'created']);
    expect(r.told[1]).toEqual({ player: 3, key: 'created', vars: { callId: 1003 } });
    expect(r.results).toEqual([{ ok: true, id: 'call-500', callId: 1003 }]);
    expect(r.logs.filter((l) => l.startsWith('warn:'))).toEqual([
      'warn: call call-500 not delivered yet (HTTP 500: database down); it stays queued',
      'warn: call call-500 not delivered yet (HTTP 500: database down); it stays queued',
    ]);
  });

  it('tells the player the known wait after a 429 and sends again only after it', async () => {
    const r = rig((_c, n) => (n === 0 ? tooMany : created(1004)));
    r.add('call-429');
    await r.clock.advance(1_000);
    expect(r.told).toEqual([
      { player: 3, key: 'busy', vars: { wait: formatWait(30_000, defaultMessages) } },
    ]);
    expect(formatWait(30_000, defaultMessages)).toMatch(/30/);
    expect(r.results).toEqual([]);
    await r.clock.advance(25_000);
    expect(r.sent).toHaveLength(1);
    await r.clock.advance(10_000);
    expect(r.sent).toHaveLength(2);
    expect(r.sent[1]!.at).toBeGreaterThanOrEqual(30_000);
    expect(r.results).toEqual([{ ok: true, id: 'call-429', callId: 1004 }]);
  });

  it('tells nobody in chat when the server id now belongs to someone else', async () => {
    const r = rig(() => created(1005), { license: 'license:other' });
    r.add('call-gone');
    await r.clock.advance(1_000);
    expect(r.told).toEqual([]);
    expect(r.results).toEqual([{ ok: true, id: 'call-gone', callId: 1005 }]);
  });

  it('logs a callback that throws and still settles the call', async () => {
    const r = rig(() => created(1006));
    r.dispatch.enqueue('call-throw', call(), { ...jo }, 0, () => {
      throw new Error('boom');
    });
    await r.clock.advance(1_000);
    expect(r.logs).toContain('warn: the callback for call call-throw threw: boom');
    expect(r.told).toEqual([{ player: 3, key: 'created', vars: { callId: 1006 } }]);
  });

  it('drops a waiting call: its player, event and callback hear it once', async () => {
    const r = rig(() => created(1));
    r.add('call-wait', '911 Call', jo, 60_000);
    expect(r.dispatch.drop('call-wait')).toBe('dropped-waiting');
    expect(r.told).toEqual([{ player: 3, key: 'rejected', vars: { reason: DROPPED } }]);
    expect(r.events).toEqual([['sonoran911:callFailed', 'call-wait', 'dropped by an operator']]);
    expect(r.results).toEqual([{ ok: false, id: 'call-wait', error: 'dropped by an operator' }]);
    expect(r.logs).toContain('info: call call-wait (/911 from Jo) dropped by an operator');
    await r.clock.advance(120_000);
    expect(r.sent).toEqual([]);
    expect(r.results).toHaveLength(1);
    expect(r.dispatch.drop('call-wait')).toBe('unknown');
  });

  it('drops a dead letter quietly: its origin already heard the refusal', async () => {
    const r = rig(() => problem(400, 'bad postal'));
    r.add('call-dead');
    await r.clock.advance(1_000);
    const before = { told: r.told.length, events: r.events.length, results: r.results.length };
    expect(before).toEqual({ told: 1, events: 1, results: 1 });
    expect(r.dispatch.drop('call-dead')).toBe('dropped');
    expect({ told: r.told.length, events: r.events.length, results: r.results.length }).toEqual(
      before,
    );
    expect(r.dispatch.scheduler.deadLetters()).toEqual([]);
  });

  it('cannot drop a call in flight', async () => {
    const r = rig(() => created(7));
    r.add('call-fly');
    await r.clock.advance(50);
    expect(r.dispatch.drop('call-fly')).toBe('in-flight');
    await r.clock.advance(100);
    expect(r.results).toEqual([{ ok: true, id: 'call-fly', callId: 7 }]);
  });

  it('retries a restore while the KVP search is busy, then sends the saved calls', async () => {
    // A previous run accepted two calls and stopped before sending them.
    const before = rig(() => created(1));
    before.add('saved-1', 'first', jo, 600_000);
    before.add('saved-2', 'second', jo, 600_000);
    before.dispatch.stop();
    const store = new BusyStore(2);
    for (const [k, v] of before.store.map) store.map.set(k, v);

    const r = rig((_c, n) => created(2001 + n), { store });
    r.dispatch.restore();
    expect(r.logs).toHaveLength(1);
    expect(r.logs[0]).toMatch(/^warn: the calls saved before the restart could not be read yet/);
    expect(r.logs[0]).toContain('trying again in 3 s');
    await r.clock.advance(3_000);
    expect(store.busy).toBe(0);
    expect(r.sent).toEqual([]);
    // The second try doubled the wait to 6 s.
    await r.clock.advance(5_900);
    expect(r.sent).toEqual([]);
    await r.clock.advance(1_000);
    expect(r.sent).toEqual([
      { title: 'first', at: 9_000 },
      { title: 'second', at: 9_000 },
    ]);
    expect(r.logs).toContain(
      'info: outbox: 2 call(s) from before the restart will be sent, 0 dead letter(s) kept',
    );
    expect(r.logs.filter((l) => l.startsWith('warn:'))).toHaveLength(1);
    expect(r.told).toEqual([
      { player: 3, key: 'created', vars: { callId: 2001 } },
      { player: 3, key: 'created', vars: { callId: 2002 } },
    ]);
    expect(r.events.map((e) => e[1])).toEqual(['saved-1', 'saved-2']);
  });

  it('stops retrying a busy restore once the resource stops', async () => {
    const store = new BusyStore(5);
    const r = rig(() => created(1), { store });
    r.dispatch.restore();
    expect(r.clock.pending()).toBe(1);
    r.dispatch.stop();
    expect(r.clock.pending()).toBe(0);
    await r.clock.advance(600_000);
    expect(store.busy).toBe(4);
  });
});
