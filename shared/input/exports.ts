/**
 * Arguments of the exports other resources call. Validated strictly so a typo in a robbery
 * script comes back as a readable error instead of a call with a default in its place, and
 * nothing the CAD would refuse is ever queued.
 */
import { z } from 'zod';
import {
  accountSchema,
  communityUserIdSchema,
  deleteAfterMinutesSchema,
  originSchema,
  prioritySchema,
  statusSchema,
} from '../call/contract';
import { formatPath } from '../config/load';

const finite = z
  .number({ error: 'expected a number' })
  .finite({ error: 'expected a finite number' });
const text = (max: number) =>
  z.string({ error: 'expected text' }).max(max, { error: `expected at most ${max} characters` });

/** Far beyond any map a server runs (GTA V's spans about ±10 km): junk, not a place. */
const MAX_COORD = 100_000;
const onMap = finite.min(-MAX_COORD).max(MAX_COORD);

const coordsSchema = z.preprocess(
  (v) => luaVector(v) ?? v,
  z.union(
    [
      z.tuple([onMap, onMap, onMap]).transform(([x, y, z]) => ({ x, y, z })),
      // A vector4 (or [x, y, z, heading]) is a place plus a heading: the place is used.
      z.tuple([onMap, onMap, onMap, finite]).transform(([x, y, z]) => ({ x, y, z })),
      z.strictObject({ x: onMap, y: onMap, z: onMap }),
    ],
    {
      error:
        'expected coords as a vector3, [x, y, z] or { x, y, z } with numbers on the map (a vector2 has no height)',
    },
  ),
);

/** Numbers and booleans are sent as strings, as the CAD wants; anything nested is refused. */
const metaValue = z
  .union([z.string().max(500), finite, z.boolean()], {
    error: 'expected a string, number or boolean (nested values are not allowed)',
  })
  .transform(String);

const noteSchema = z.strictObject({
  label: text(100).optional(),
  type: text(50).optional(),
  content: text(2_000),
});

/**
 * A Lua vector arrives as msgpack extension 20/21/22 (vector2/3/4) holding float32 values,
 * which FXServer's JS runtime hands over undecoded as `{ type, buffer }`
 * (citizenfx/fivem data/shared/citizen/scripting/v8/msgpack.js; lua-cmsgpack packs them).
 * Returns the numbers, or null for anything else.
 */
export function luaVector(value: unknown): number[] | null {
  if (typeof value !== 'object' || value === null) return null;
  const { type, buffer } = value as { type?: unknown; buffer?: unknown };
  if (typeof type !== 'number' || type < 20 || type > 22 || !ArrayBuffer.isView(buffer))
    return null;
  const size = type - 18;
  if (buffer.byteLength !== size * 4) return null;
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  return Array.from({ length: size }, (_, i) => view.getFloat32(i * 4, true));
}

/**
 * A Lua table with holes ({ a, nil, c }) is not an array to lua-cmsgpack: it arrives as an
 * object keyed "1", "3". A list given that way is read in key order, holes skipped.
 */
function luaList(value: unknown, max: number): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  // Too long either way: left as it is, so the array check refuses it without sorting it.
  if (keys.length === 0 || keys.length > max) return value;
  if (!keys.every((k) => /^[1-9]\d{0,5}$/.test(k))) return value;
  return keys
    .map(Number)
    .sort((a, b) => a - b)
    .map((k) => (value as Record<string, unknown>)[String(k)]);
}

/** An empty Lua table is an empty msgpack array, whatever the caller meant by it. */
const emptyTableIsEmptyRecord = (value: unknown): unknown =>
  Array.isArray(value) && value.length === 0 ? {} : value;

/** Lua's GetPlayers() and JS's getPlayers() hand out ids as strings: "7" is player 7. */
const numericId = (value: unknown): unknown =>
  typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value;

/** A player server id as a number, or as the numeric string GetPlayers() gives. */
export const playerIdSchema = z.preprocess(
  numericId,
  z
    .int({ error: 'expected a player server id (a whole number, or its string from GetPlayers())' })
    .positive({ error: 'expected a player server id' }),
);

/**
 * Keys the resource writes into every call's metaData: staff trace a call by them, so a
 * caller may not set them (a silent overwrite would hide the caller's value).
 */
export const RESERVED_META_KEYS = [
  'source',
  'resource',
  'requestId',
  'x',
  'y',
  'z',
  'postal',
  'heading',
  'callerName',
  'callerPlayerId',
  'callerCommunityUserId',
  'callerPhone',
] as const;
// In any case: "Source" next to our "source" would read the same to staff.
const reserved = new Set<string>(RESERVED_META_KEYS.map((k) => k.toLowerCase()));
const MAX_META_KEYS = 50;

const keyCount = (v: unknown): number =>
  typeof v === 'object' && v !== null ? Object.keys(v).length : 0;

const metaDataSchema = z.preprocess(
  (v) => (keyCount(v) > MAX_META_KEYS ? v : withoutNulls(emptyTableIsEmptyRecord(v))),
  z
    .unknown()
    // Counted before any key is parsed, so a table of a million keys costs nothing.
    .check((ctx) => {
      const count = keyCount(ctx.value);
      if (count > MAX_META_KEYS) {
        ctx.issues.push({
          code: 'custom',
          input: `(${count} keys)`,
          message: `expected at most ${MAX_META_KEYS} keys`,
          abort: true,
        });
      }
    })
    .pipe(
      z.record(z.string().max(64, { error: 'expected keys of at most 64 characters' }), metaValue, {
        error: (issue) =>
          issue.code === 'invalid_type'
            ? 'expected a table of key = value pairs'
            : issue.code === 'invalid_key'
              ? 'expected keys of at most 64 characters'
              : undefined,
      }),
    )
    .check((ctx) => {
      for (const key of Object.keys(ctx.value)) {
        if (!reserved.has(key.toLowerCase())) continue;
        ctx.issues.push({
          code: 'custom',
          input: ctx.value[key],
          path: [key],
          message: `"${key}" is set by sonoran-911 (reserved: ${RESERVED_META_KEYS.join(', ')}); use another key`,
        });
      }
    }),
);

/** Lua and JS callers may send `nil`/`undefined` for a field they leave out: both arrive as null. */
const withoutNulls = (value: unknown): unknown => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null));
};

const list = <T extends z.ZodType>(item: T, max: number) =>
  z.preprocess((v) => luaList(v, max), z.array(item).max(max));

export const createCallInputSchema = z.preprocess(
  withoutNulls,
  z.strictObject({
    title: text(100).min(1, { error: 'a call needs a title' }),
    code: text(32).optional(),
    priority: prioritySchema.optional(),
    origin: originSchema.optional(),
    status: statusSchema.optional(),
    description: text(4_000).optional(),
    address: text(200).optional(),
    block: text(200).optional(),
    postal: text(20).optional(),
    notes: list(z.preprocess(withoutNulls, noteSchema), 20).optional(),
    communityUserIds: list(communityUserIdSchema, 50).optional(),
    accounts: list(accountSchema, 50).optional(),
    metaData: metaDataSchema.optional(),
    deleteAfterMinutes: deleteAfterMinutesSchema.optional(),
    /** The caller: identity and (without coords) position come from this player. */
    playerId: playerIdSchema.optional(),
    coords: coordsSchema.optional(),
    /** Every call with this key within the merge window joins one call, wherever it is. */
    incidentKey: text(100).min(1).optional(),
    /** false: never joins another call (an alarm that must stand alone). */
    merge: z.boolean({ error: 'expected true or false' }).optional(),
  }),
);

export type CreateCallInput = z.output<typeof createCallInputSchema>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses export input; the error names the field, what came and what was expected. */
export function parseExportInput<T>(schema: z.ZodType<T>, input: unknown): Parsed<T> {
  let result: ReturnType<typeof schema.safeParse>;
  try {
    result = schema.safeParse(input, { reportInput: true });
  } catch {
    // Only a value msgpack cannot deliver (a throwing getter, a Proxy) gets here.
    return { ok: false, error: 'input could not be read' };
  }
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    return { ok: false, error: `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}` };
  }
  const where = issue.path.length > 0 ? formatPath(issue.path) : 'input';
  const got = describe(issue.input);
  return { ok: false, error: `${where}${got ? ` = ${got}` : ''}: ${issue.message}` };
}

/** The value a caller sent, short and readable: never raw bytes. */
export function describe(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'function') return '(a function)';
  // Only the first 60 characters are shown: never serialize a huge table to get them.
  const entries = keyCount(value);
  if (entries > 20) return `(a table of ${entries} entries)`;
  try {
    const s =
      JSON.stringify(value, (_key, v: unknown) => {
        const vector = luaVector(v);
        if (vector) return `vector${vector.length}(${vector.map((n) => +n.toFixed(2)).join(', ')})`;
        if (ArrayBuffer.isView(v)) return `(${v.byteLength} bytes of binary data)`;
        // A Node Buffer has already turned itself into { type: 'Buffer', data } here.
        if (isBufferJson(v)) return `(${v.data.length} bytes of binary data)`;
        if (typeof v === 'function') return '(a function)';
        return v;
      }) ?? String(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return '(unprintable)';
  }
}

function isBufferJson(v: unknown): v is { type: 'Buffer'; data: unknown[] } {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((v as { data?: unknown }).data)
  );
}
