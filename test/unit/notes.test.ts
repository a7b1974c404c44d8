import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../sandbox/support/clock';
import { dispatchCall, schedulerOptions } from '../../sandbox/support/fixtures';
import { createNotes, type NoteMeta } from '../../server/notes';
import type { NoteRequest } from '../../shared/call/note';
import { MemoryStore } from '../../shared/delivery/outbox';
import type { HttpAttempt } from '../../shared/delivery/outcome';

const added = (callId: number): HttpAttempt => ({
  kind: 'response',
  status: 200,
  headers: {},
  body: JSON.stringify({ callId, note: 'x' }),
});
const gone: HttpAttempt = {
  kind: 'response',
  status: 404,
  headers: { 'content-type': 'application/problem+json' },
  body: JSON.stringify({ title: 'Not Found', status: 404, detail: 'no such call' }),
};
const note = (i: number): NoteRequest => ({
  priority: 1,
  callId: 1001,
  note: `Caller ${i}: shots`,
  noteType: 'text',
  label: '911 Call',
  fallback: dispatchCall({ title: '911 Call', description: `shots ${i}` }),
  players: [3],
});
const meta: NoteMeta = {
  player: 3,
  playerKey: 'license:p3',
  callerName: 'Jo',
  source: '/911',
  incident: 'req-1',
};

function rig(
  answer: (n: NoteRequest) => HttpAttempt,
  store = new MemoryStore(),
  fallbackOk = true,
) {
  const clock = new FakeClock();
  const sent: { note: string; at: number }[] = [];
  const fallbacks: string[] = [];
  const notes = createNotes(
    {
      send: (n) => {
        sent.push({ note: n.note, at: clock.now() });
        return new Promise((resolve) => clock.timers_.set(() => resolve(answer(n)), 100));
      },
      store,
      log: { info: () => {}, warn: () => {}, error: () => {} },
      now: clock.now,
      timers: clock.timers_,
      random: () => 0.5,
      fallback: (job) => {
        fallbacks.push(job.call.fallback.description);
        return fallbackOk;
      },
    },
    schedulerOptions({ requests: 60, windowMs: 60_000 }),
  );
  return { clock, notes, sent, fallbacks, store };
}

describe('the notes lane', () => {
  it('adds 70 notes within its own 60-per-minute budget, none lost', async () => {
    const r = rig(() => added(1001));
    for (let i = 0; i < 70; i++) r.notes.enqueue(`n${i}`, note(i), meta);
    await r.clock.advance(200_000);
    expect(r.sent).toHaveLength(70);
    const inFirstMinute = r.sent.filter((s) => s.at < 60_000).length;
    expect(inFirstMinute).toBeLessThanOrEqual(60);
    expect(r.store.keys('outbox:note:')).toEqual([]);
  });

  it('sends a refused note as a call of its own, and keeps no dead letter of it', async () => {
    const r = rig(() => gone);
    r.notes.enqueue('n1', note(1), meta);
    await r.clock.advance(5_000);
    expect(r.fallbacks).toEqual(['shots 1']);
    expect(r.notes.scheduler.status().deadLetters).toBe(0);
    expect(r.store.keys('outbox:note:')).toEqual([]);
  });

  it('holds a note for a call in flight until its number comes, or sends it as a call if none does', async () => {
    const r = rig(() => added(1001));
    r.notes.enqueue('held', { ...note(1), callId: null }, meta, 600_000);
    r.notes.enqueue('orphan', { ...note(2), callId: null }, meta, 600_000);
    await r.clock.advance(5_000);
    expect(r.sent).toEqual([]);
    r.notes.release('held', 1001);
    r.notes.release('orphan', null);
    await r.clock.advance(5_000);
    // The orphan never reached the CAD: it goes as a call of its own.
    expect(r.sent.map((s) => s.note)).toEqual(['Caller 1: shots']);
    expect(r.fallbacks).toEqual(['shots 2']);
  });

  it('keeps a refused note as a dead letter when its call cannot be queued either', async () => {
    const r = rig(() => gone, new MemoryStore(), false);
    r.notes.enqueue('n1', note(1), meta);
    await r.clock.advance(5_000);
    expect(r.fallbacks).toEqual(['shots 1']);
    expect(r.notes.scheduler.status().deadLetters).toBe(1);
  });

  it('after a restart, gives a held note to its call if that still waits, else sends it as a call', async () => {
    const store = new MemoryStore();
    const before = rig(() => added(1001), store);
    before.notes.stop();
    before.notes.enqueue('adopted', { ...note(1), callId: null }, meta, 600_000);
    before.notes.enqueue('orphan', { ...note(2), callId: null }, meta, 600_000);
    const after = rig(() => added(1001), store);
    after.notes.restore((job) => job.id === 'adopted');
    await after.clock.advance(5_000);
    expect(store.keys('outbox:note:')).toEqual([]);
    expect(after.sent).toEqual([]);
    expect(after.fallbacks).toEqual(['shots 2']);
  });

  it('keeps notes in their own records across a restart and adds them after it', async () => {
    const store = new MemoryStore();
    const before = rig(() => added(1001), store);
    before.notes.stop();
    before.notes.enqueue('n1', note(1), meta);
    expect(store.keys('outbox:note:')).toEqual(['outbox:note:n1']);
    expect(store.keys('outbox:call:')).toEqual([]);
    const after = rig(() => added(1001), store);
    after.notes.restore();
    await after.clock.advance(5_000);
    expect(after.sent.map((s) => s.note)).toEqual(['Caller 1: shots']);
  });
});
