/**
 * Arguments of the exports other resources call. Validated strictly so a typo in a robbery
 * script comes back as a readable error instead of a call with a default in its place, and
 * nothing the CAD would refuse is ever queued.
 */
import { z } from 'zod';
import { formatPath } from './config-load';
import {
  accountSchema,
  communityUserIdSchema,
  deleteAfterMinutesSchema,
  originSchema,
  prioritySchema,
  statusSchema,
} from './contract';

const finite = z
  .number({ error: 'expected a number' })
  .finite({ error: 'expected a finite number' });
const text = (max: number) =>
  z.string({ error: 'expected text' }).max(max, { error: `expected at most ${max} characters` });

const coordsSchema = z.union(
  [
    z.tuple([finite, finite, finite]).transform(([x, y, z]) => ({ x, y, z })),
    z.strictObject({ x: finite, y: finite, z: finite }),
  ],
  { error: 'expected coords as [x, y, z] or { x, y, z } with finite numbers' },
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

export const createCallInputSchema = z.strictObject({
  title: text(100).min(1, { error: 'a call needs a title' }),
  code: text(32).optional(),
  priority: prioritySchema.optional(),
  origin: originSchema.optional(),
  status: statusSchema.optional(),
  description: text(4_000).optional(),
  address: text(200).optional(),
  block: text(200).optional(),
  postal: text(20).optional(),
  notes: z.array(noteSchema).max(20).optional(),
  communityUserIds: z.array(communityUserIdSchema).max(50).optional(),
  accounts: z.array(accountSchema).max(50).optional(),
  metaData: z.record(z.string().max(64), metaValue).optional(),
  deleteAfterMinutes: deleteAfterMinutesSchema.optional(),
  /** The caller: identity and (without coords) position come from this player. */
  playerId: z
    .int({ error: 'expected a player server id' })
    .positive({ error: 'expected a player server id' })
    .optional(),
  coords: coordsSchema.optional(),
});

export type CreateCallInput = z.output<typeof createCallInputSchema>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses export input; the error names the field, what came and what was expected. */
export function parseExportInput<T>(schema: z.ZodType<T>, input: unknown): Parsed<T> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    return { ok: false, error: `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}` };
  }
  const where = issue.path.length > 0 ? formatPath(issue.path) : 'input';
  const got = describe(issue.input);
  return { ok: false, error: `${where}${got ? ` = ${got}` : ''}: ${issue.message}` };
}

function describe(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'function') return '(a function)';
  try {
    const s = JSON.stringify(value) ?? String(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return '(unprintable)';
  }
}
