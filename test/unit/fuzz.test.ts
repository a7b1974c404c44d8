import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mulberry32 } from '../../sandbox/support/prng';
import { loadConfig } from '../../shared/config/load';
import { MemoryStore, Outbox } from '../../shared/delivery/outbox';
import { createCallInputSchema, parseExportInput } from '../../shared/input/exports';
import { parseLocated, parseReport } from '../../shared/input/report';
import { mutate, randomJson, randomValue } from '../support/garbage';

const ROUNDS = 10_000;
const finiteOrNull = (n: unknown) => typeof n === 'number' && Number.isFinite(n);

describe('parsers under fuzz', () => {
  it('parseReport returns a clean object or null for anything, and never throws', () => {
    const r = mulberry32(1);
    let accepted = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const payload = i % 2 === 0 ? randomValue(r) : mutate(r);
      const parsed = parseReport(payload);
      if (!parsed) continue;
      accepted++;
      expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
      expect(Object.keys(parsed).sort()).toEqual(['command', 'description', 'location']);
      expect(typeof parsed.command).toBe('string');
      expect(parsed.command.length).toBeLessThanOrEqual(32);
      expect(parsed.description.length).toBeLessThanOrEqual(4_000);
      if (parsed.location)
        expect([parsed.location.x, parsed.location.y, parsed.location.z].every(finiteOrNull)).toBe(
          true,
        );
    }
    // Mutations keep about half valid-looking: the fuzz reaches the accepting paths too.
    expect(accepted).toBeGreaterThan(500);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('parseLocated and the export schema refuse garbage without throwing', () => {
    const r = mulberry32(2);
    for (let i = 0; i < ROUNDS; i++) {
      const value = randomValue(r);
      const located = parseLocated(value);
      if (located) expect(typeof located.nonce).toBe('string');
      const input = parseExportInput(createCallInputSchema, value);
      if (!input.ok) expect(typeof input.error).toBe('string');
      else expect(typeof input.value.title).toBe('string');
    }
  });

  it('config loading reports garbage instead of throwing', () => {
    const r = mulberry32(3);
    for (let i = 0; i < 2_000; i++) {
      const text = randomJson(r);
      const loaded = loadConfig({ fileText: text, convar: () => '' });
      if (!loaded.ok) expect(loaded.errors.length).toBeGreaterThan(0);
    }
  });

  it('an outbox full of garbage records starts empty and sets every record aside', () => {
    const r = mulberry32(4);
    const store = new MemoryStore();
    for (let i = 0; i < 1_000; i++) {
      const text = randomJson(r);
      store.set(`outbox:call:${i}`, text);
    }
    const restored = new Outbox(store, z.null()).load();
    expect(restored.pending).toEqual([]);
    expect(restored.corrupt).toHaveLength(1_000);
    expect(store.keys('outbox:call:')).toEqual([]);
  });
});
