import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStore, Outbox } from '../../shared/delivery/outbox';

const record = (id: string, seq = 0) =>
  JSON.stringify({
    v: 1,
    state: 'pending',
    job: {
      id,
      call: {
        origin: 0,
        status: 1,
        priority: 1,
        block: '',
        address: '',
        postal: '',
        title: id,
        code: '911',
        description: '',
        notes: [],
        communityUserIds: ['u'],
      },
      meta: null,
      enqueuedAt: 0,
      attempts: 0,
      notBefore: 0,
      seq,
      lastError: null,
    },
  });

describe('Outbox.load with records edited by hand', () => {
  it('takes only a record under its own id, once, and sets the others aside', () => {
    const store = new MemoryStore();
    store.set('outbox:call:B', record('B', 1));
    store.set('outbox:call:A', record('B', 0)); // a second record of call B
    store.set('outbox:call:C', record('D', 2)); // key C holding call D
    const restored = new Outbox(store, z.null()).load();
    expect(restored.pending.map((j) => j.id)).toEqual(['B']);
    expect(restored.corrupt).toEqual([
      'outbox:call:A: holds call B, which belongs under outbox:call:B; kept as outbox:corrupt:A',
      'outbox:call:C: holds call D, which belongs under outbox:call:D; kept as outbox:corrupt:C',
    ]);
    expect(store.keys('outbox:call:')).toEqual(['outbox:call:B']);
    // What was set aside is kept as it was, for an operator to look at.
    expect(store.get('outbox:corrupt:C')).toBe(record('D', 2));
  });

  it('sets aside a dead letter whose time no Date can hold, so the listing cannot crash', () => {
    const store = new MemoryStore();
    const dead = JSON.parse(record('late'));
    dead.state = 'dead';
    dead.dead = { reason: 'HTTP 400', problem: {}, at: 1e300 };
    store.set('outbox:call:late', JSON.stringify(dead));
    const restored = new Outbox(store, z.null()).load();
    expect(restored.dead).toEqual([]);
    expect(restored.corrupt).toHaveLength(1);
  });

  it('never overwrites a record set aside before', () => {
    const store = new MemoryStore();
    store.set('outbox:corrupt:A', 'from last week');
    store.set('outbox:call:A', record('B'));
    const restored = new Outbox(store, z.null()).load();
    expect(restored.pending).toEqual([]);
    expect(restored.corrupt[0]).toMatch(/kept as outbox:corrupt:A~2$/);
    expect(store.get('outbox:corrupt:A')).toBe('from last week');
    expect(store.get('outbox:corrupt:A~2')).toBe(record('B'));
  });

  it('takes a record once when the store lists its key twice', () => {
    const store = new MemoryStore();
    store.set('outbox:call:B', record('B'));
    const keys = store.keys.bind(store);
    store.keys = (prefix) => [...keys(prefix), ...keys(prefix)];
    const restored = new Outbox(store, z.null()).load();
    expect(restored.pending.map((j) => j.id)).toEqual(['B']);
    expect(restored.corrupt).toEqual([]);
  });
});
