/** Random and hostile values for fuzz tests, from a seed so a failure can be replayed. */
export const nasty: unknown[] = [
  null,
  undefined,
  true,
  0,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -1e308,
  2 ** 53 + 1,
  '',
  '911',
  'x'.repeat(100_000),
  '\u0000\u202e^1[ALARM]',
  '__proto__',
  [],
  [1, [2, [3]]],
  {},
  JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}'),
];

const KEYS = [
  'command',
  'description',
  'location',
  'x',
  'y',
  'z',
  'nonce',
  'title',
  'street',
  'zone',
  'heading',
  'coords',
  'metaData',
  'playerId',
];

export function randomValue(r: () => number, depth = 0): unknown {
  const pick = r();
  if (pick < 0.35 || depth > 3) return nasty[Math.floor(r() * nasty.length)];
  if (pick < 0.55) return Math.floor(r() * 2 ** 31) * (r() < 0.5 ? -1 : 1);
  if (pick < 0.7)
    return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--)
    o[KEYS[Math.floor(r() * KEYS.length)]!] = randomValue(r, depth + 1);
  return o;
}

/** A random value as JSON text (the values have no cycles, so this never throws). */
export const randomJson = (r: () => number): string => JSON.stringify(randomValue(r)) ?? 'null';

export const validReport = () => ({
  command: '911',
  description: 'shots fired',
  location: {
    x: 425.1,
    y: -979.2,
    z: 30.7,
    heading: 90,
    street: 'Alta St',
    crossing: '',
    zone: 'Downtown',
  },
});

/** A valid report with one part replaced by something hostile, or removed. */
export function mutate(r: () => number): unknown {
  const p: Record<string, unknown> = validReport();
  const loc = p.location as Record<string, unknown>;
  const field = ['command', 'description', 'location', 'x', 'y', 'z'][Math.floor(r() * 6)]!;
  const target = ['x', 'y', 'z'].includes(field) ? loc : p;
  if (r() < 0.3) delete target[field];
  else target[field] = nasty[Math.floor(r() * nasty.length)];
  return p;
}
