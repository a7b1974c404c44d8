/**
 * The scheduler with a budget shared with other servers (shared/delivery/gate.ts), driven by a
 * scripted gate on the fake clock: what it asks for, what it tells the other servers it waits
 * for, and that no answer of the gate can leave a call stuck. The gate against a real Redis is
 * test/unit/shared-budget.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeClock, flush } from '../../sandbox/support/clock';
import { dispatchCall, schedulerOptions } from '../../sandbox/support/fixtures';
import type { BudgetGate, Grant, Want } from '../../shared/delivery/gate';
import { MemoryStore, Outbox } from '../../shared/delivery/outbox';
import type { HttpAttempt } from '../../shared/delivery/outcome';
import { Scheduler } from '../../shared/delivery/scheduler';

const created = (n: number): HttpAttempt => ({
  kind: 'response',
  status: 201,
  headers: {},
  body: `{"callId":${n}}`,
});
const limited: HttpAttempt = {
  kind: 'response',
  status: 429,
  headers: { 'retry-after': '30' },
  body: '{"title":"Too Many Requests","status":429}',
};

/** A gate whose answers the test gives, one reserve at a time. */
function scriptedGate(limit = 10) {
  const asks: { want: Want; answer(grant: Grant): void }[] = [];
  const published: (Want | null)[] = [];
  const cancelled: string[] = [];
  const released: string[] = [];
  let wake = () => {};
  const gate: BudgetGate = {
    ownLimit: () => limit,
    reserve: (want) => new Promise<Grant>((answer) => asks.push({ want, answer })),
    release: (t) => released.push(t),
    cancel: (t) => cancelled.push(t),
    publish: (want) => published.push(want),
    restored: () => {},
    subscribe: (fn) => {
      wake = fn;
    },
  };
  return { gate, asks, published, cancelled, released, wake: () => wake() };
}

function rig(answers: (n: number) => HttpAttempt, gate: BudgetGate) {
  const clock = new FakeClock();
  const sent: string[] = [];
  let n = 0;
  const s = new Scheduler<null>(
    {
      send: (c) => {
        sent.push(c.title);
        const answer = answers(n++);
        return new Promise((resolve) => clock.timers_.set(() => resolve(answer), 100));
      },
      now: clock.now,
      timers: clock.timers_,
      random: () => 0.5,
      journal: new Outbox(new MemoryStore(), z.null()),
      gate,
      onSettled: () => {},
      onDelayed: () => {},
      onUnauthorized: () => {},
    },
    schedulerOptions({ requests: 20, windowMs: 60_000 }),
  );
  const add = (id: string, priority: number) => {
    const r = s.enqueue(id, dispatchCall({ priority, title: id }), null);
    if (!r.ok) throw new Error(r.reason);
  };
  return { clock, s, sent, add };
}

describe('Scheduler with a shared budget', () => {
  it('asks for one slot at a time, sends only with a ticket, and gives it to the most urgent call', async () => {
    const g = scriptedGate();
    const r = rig((n) => created(n), g.gate);
    r.add('low', 3);
    r.add('urgent', 1);
    await flush();
    // One ask, made for the first call; the other servers read the most urgent one now.
    expect(g.asks).toHaveLength(1);
    expect(g.asks[0]!.want.priority).toBe(3);
    expect(g.published.at(-1)?.priority).toBe(1);
    expect(r.sent).toEqual([]);
    g.asks[0]!.answer({ ok: true, ticket: 't1' });
    await flush();
    expect(r.sent).toEqual(['urgent']);
    // The next call asks for its own slot; the other servers read what it waits for.
    expect(g.asks).toHaveLength(2);
    expect(g.published.at(-1)?.priority).toBe(3);
    await r.clock.advance(200);
    expect(g.released).toEqual(['t1']);
  });

  it('asks again when the gate says, and tells no one it waits once it has nothing left', async () => {
    const g = scriptedGate();
    const r = rig((n) => created(n), g.gate);
    r.add('a', 2);
    await flush();
    g.asks[0]!.answer({ ok: false, retryAt: r.clock.now() + 5_000 });
    await r.clock.advance(4_999);
    expect(g.asks).toHaveLength(1);
    await r.clock.advance(1);
    expect(g.asks).toHaveLength(2);
    g.asks[1]!.answer({ ok: true, ticket: 't' });
    await r.clock.advance(500);
    expect(r.sent).toEqual(['a']);
    expect(g.published.at(-1)).toBeNull();
  });

  it('a paused server stops publishing its wait and gives back a slot granted meanwhile', async () => {
    const g = scriptedGate();
    // The first request draws a 429: the key pauses for 30 s.
    const r = rig((n) => (n === 0 ? limited : created(n)), g.gate);
    r.add('first', 2);
    r.add('second', 2);
    await flush();
    g.asks[0]!.answer({ ok: true, ticket: 't1' });
    await flush();
    expect(r.sent).toEqual(['first']);
    // "second" asks while "first" is out; the 429 comes back before the grant does.
    expect(g.asks).toHaveLength(2);
    await r.clock.advance(150);
    g.asks[1]!.answer({ ok: true, ticket: 't2' });
    await flush();
    // Paused: the slot goes back at once, and no other server waits behind these calls.
    expect(g.cancelled).toContain('t2');
    expect(g.published.at(-1)).toBeNull();
    expect(r.sent).toEqual(['first']);
  });

  it('a wake-up that comes while it is asking is not lost', async () => {
    const g = scriptedGate();
    const r = rig((n) => created(n), g.gate);
    r.add('a', 1);
    await flush();
    expect(g.asks).toHaveLength(1);
    // The gate changes its mind (Redis is gone, this server now sends on its share) while the
    // ask is out, and the ask then ends with "wait to be told".
    g.wake();
    g.asks[0]!.answer({ ok: false, retryAt: null });
    await flush();
    expect(g.asks).toHaveLength(2);
    g.asks[1]!.answer({ ok: true, ticket: 't' });
    await flush();
    expect(r.sent).toEqual(['a']);
  });

  it('with "wait to be told" and no word, it sets no timer; a word starts it again', async () => {
    const g = scriptedGate();
    const r = rig((n) => created(n), g.gate);
    r.add('a', 1);
    await flush();
    g.asks[0]!.answer({ ok: false, retryAt: null });
    await r.clock.advance(60_000);
    expect(g.asks).toHaveLength(1);
    expect(r.clock.pending()).toBe(0);
    g.wake();
    await flush();
    expect(g.asks).toHaveLength(2);
  });
});
