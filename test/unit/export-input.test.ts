// What other resources send to the exports, as FXServer's msgpack delivers it: Lua vectors
// as extension objects, empty tables as [], tables with holes as objects, ids as strings.
import { describe, expect, it } from 'vitest';
import { wordsAfterCommand } from '../../shared/input/command-line';
import {
  createCallInputSchema,
  luaVector,
  parseExportInput,
  playerIdSchema,
} from '../../shared/input/exports';

/** A Lua vectorN as the JS runtime receives it: ext type 18 + N, float32 little-endian. */
const vector = (...n: number[]) => {
  const buffer = new Uint8Array(n.length * 4);
  const view = new DataView(buffer.buffer);
  for (const [i, v] of n.entries()) view.setFloat32(i * 4, v, true);
  return { type: 18 + n.length, buffer };
};
const parse = (input: unknown) => parseExportInput(createCallInputSchema, input);

describe('export input from Lua callers', () => {
  it('decodes vector2/3/4 and nothing else', () => {
    expect(luaVector(vector(147.25, -1044.5, 29.375))).toEqual([147.25, -1044.5, 29.375]);
    expect(luaVector(vector(1, 2))).toEqual([1, 2]);
    expect(luaVector(vector(1, 2, 3, 90))).toEqual([1, 2, 3, 90]);
    expect(luaVector({ type: 21, buffer: new Uint8Array(8) })).toBeNull();
    expect(luaVector({ type: 10, buffer: new Uint8Array(12) })).toBeNull();
    expect(luaVector([1, 2, 3])).toBeNull();
  });

  it('takes a vector3 or vector4 as coords and says why a vector2 will not do', () => {
    expect(parse({ title: 'x', coords: vector(1.5, 2.5, 3.5) })).toMatchObject({
      ok: true,
      value: { coords: { x: 1.5, y: 2.5, z: 3.5 } },
    });
    expect(parse({ title: 'x', coords: vector(1, 2, 3, 180) })).toMatchObject({
      value: { coords: { x: 1, y: 2, z: 3 } },
    });
    const flat = parse({ title: 'x', coords: vector(1, 2) });
    expect(flat).toMatchObject({ ok: false });
    expect(!flat.ok && flat.error).toMatch(/^coords = .*a vector2 has no height/);
  });

  it('reads an empty table as empty metaData and notes, and a table with holes as a list', () => {
    expect(parse({ title: 'x', metaData: [], notes: [], communityUserIds: [] })).toMatchObject({
      ok: true,
      value: { metaData: {}, notes: [], communityUserIds: [] },
    });
    const holes = parse({
      title: 'x',
      notes: { '3': { content: 'third' }, '1': { content: 'first', label: null } },
      communityUserIds: { '2': 'b', '1': 'a' },
    });
    expect(holes).toMatchObject({
      ok: true,
      value: { notes: [{ content: 'first' }, { content: 'third' }], communityUserIds: ['a', 'b'] },
    });
  });

  it('treats nil fields as left out, and string player ids as ids', () => {
    expect(parse({ title: 'x', code: null, playerId: '12' })).toMatchObject({
      ok: true,
      value: { playerId: 12 },
    });
    expect(playerIdSchema.safeParse('0').success).toBe(false);
    expect(playerIdSchema.safeParse('1.5').success).toBe(false);
    expect(playerIdSchema.safeParse(7).data).toBe(7);
  });

  it('names the field in an error and never prints raw bytes', () => {
    const bytes = parse({ title: 'x', metaData: { blob: new Uint8Array([1, 2, 3]) } });
    expect(!bytes.ok && bytes.error).toBe(
      'metaData.blob = "(3 bytes of binary data)": expected a string, number or boolean (nested values are not allowed)',
    );
    const nested = parse({ title: 'x', metaData: { at: vector(1, 2, 3) } });
    expect(!nested.ok && nested.error).toMatch(/^metaData\.at = "vector3\(1, 2, 3\)"/);
    const buffer = parse({ title: 'x', metaData: { b: Buffer.from('secret') } });
    expect(!buffer.ok && buffer.error).toMatch(/6 bytes of binary data/);
    expect(!buffer.ok && buffer.error).not.toMatch(/115/);
  });

  it('refuses each metaData key the resource sets, naming it', () => {
    for (const key of ['source', 'requestId', 'x', 'postal', 'callerName']) {
      const answer = parse({ title: 'x', metaData: { [key]: 'mine' } });
      expect(!answer.ok && answer.error).toMatch(
        new RegExp(`^metaData\\.${key} = "mine": "${key}" is set by sonoran-911`),
      );
    }
    expect(parse({ title: 'x', metaData: { store: 'LTD', vault: 2 } }).ok).toBe(true);
    const upper = parse({ title: 'x', metaData: { Source: 'mine' } });
    expect(!upper.ok && upper.error).toMatch(/"Source" is set by sonoran-911/);
  });

  it('bounds what it reads: keys, list lengths, places', () => {
    const many = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, i]));
    const started = performance.now();
    const wide = parse({ title: 'x', metaData: many });
    const holes = parse({
      title: 'x',
      communityUserIds: Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [i + 1, 'u'])),
    });
    // Refused by counting, not by parsing 200,000 entries (which takes seconds).
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(!wide.ok && wide.error).toMatch(
      /^metaData = "\(200000 keys\)": expected at most 50 keys/,
    );
    expect(holes.ok).toBe(false);
    const long = parse({ title: 'x', metaData: { ['k'.repeat(65)]: 'v' } });
    expect(!long.ok && long.error).toMatch(/keys of at most 64 characters/);
    expect(parse({ title: 'x', metaData: { gone: null, kept: 'v' } })).toMatchObject({
      ok: true,
      value: { metaData: { kept: 'v' } },
    });
    const junk = parse({ title: 'x', coords: vector(4.5e30, 1, 2) });
    expect(!junk.ok && junk.error).toMatch(/^coords = .*numbers on the map/);
  });
});

describe('the words after a command', () => {
  it('come from the raw line, not the tokenized arguments', () => {
    const raw = '911 Robbery at Fleeca #3 two suspects';
    expect(wordsAfterCommand('911', raw, ['Robbery', 'at', 'Fleeca'])).toBe(
      'Robbery at Fleeca #3 two suspects',
    );
    expect(wordsAfterCommand('911', '911 say "hi"  twice', [])).toBe('say "hi"  twice');
    expect(wordsAfterCommand('panic', 'PANIC officer down', [])).toBe('officer down');
    expect(wordsAfterCommand('911', '  /911 help', [])).toBe('help');
    expect(wordsAfterCommand('911', '911', [])).toBe('');
  });

  it('fall back to the arguments when the raw line is missing or names another command', () => {
    expect(wordsAfterCommand('911', undefined, ['a', 'b'])).toBe('a b');
    expect(wordsAfterCommand('911', 'other words', ['words'])).toBe('words');
  });
});
