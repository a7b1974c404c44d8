import { describe, expect, it } from 'vitest';
import { nearestPostal, parsePostals } from '../../shared/call/postal';

describe('postals', () => {
  const file = JSON.stringify([
    { x: 100, y: 100, code: '101' },
    { x: -1000, y: 2000, code: 8003 },
    { x: 'bad', y: 1, code: '1' },
    { x: 105, y: 160, code: '102' },
  ]);

  it('parses a nearest-postal file, numbers as codes, skipping broken entries', () => {
    const parsed = parsePostals(file);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.points.map((p) => p.code)).toEqual(['101', '8003', '102']);
    expect(parsed.skipped).toBe(1);
  });

  it('finds the nearest point by 2D distance', () => {
    const parsed = parsePostals(file);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(nearestPostal(parsed.points, 104, 131)?.code).toBe('102');
    expect(nearestPostal(parsed.points, 104, 129)?.code).toBe('101');
    expect(nearestPostal(parsed.points, -900, 1500)?.code).toBe('8003');
    expect(nearestPostal([], 0, 0)).toBeNull();
  });

  it('explains files it cannot use', () => {
    expect(parsePostals('{')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not valid JSON/),
    });
    expect(parsePostals('{"x":1}')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/list/),
    });
    expect(parsePostals('[{"a":1}]')).toMatchObject({ ok: false });
  });
});
