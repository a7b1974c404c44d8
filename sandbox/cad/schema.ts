// The request body contract of POST /v2/emergency/servers/{serverId}/dispatch-calls
// (reference/sonoran-v2-create-dispatch-call.md), enforced strictly so that anything the
// real API might refuse fails here first.
import { z } from 'zod';

const text = z.string();

export const dispatchCallBody = z.strictObject({
  origin: z.int().min(0).max(1),
  status: z.int().min(0).max(2),
  priority: z.int(),
  block: text,
  address: text,
  postal: text,
  title: text.min(1),
  code: text,
  description: text,
  notes: z.array(z.record(z.string(), z.unknown())),
  communityUserIds: z.array(z.string().min(1).max(255)).optional(),
  accounts: z.array(z.uuid()).optional(),
  metaData: z.record(z.string(), z.string()).optional(),
  deleteAfterMinutes: z.int().positive().optional(),
});

export type DispatchCallBody = z.infer<typeof dispatchCallBody>;

export interface Problem {
  path: string;
  message: string;
}

export type Validation = { ok: true; body: DispatchCallBody } | { ok: false; problems: Problem[] };

export function validateDispatchCall(input: unknown): Validation {
  const problems: Problem[] = [];
  const parsed = dispatchCallBody.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) problems.push({ path: key, message: 'unknown property' });
      } else {
        problems.push({ path: formatPath(issue.path), message: issue.message });
      }
    }
  }
  // Checked on the raw input so it is reported together with every other problem.
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const { communityUserIds, accounts } = input as Record<string, unknown>;
    const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);
    if (count(communityUserIds) + count(accounts) === 0) {
      problems.push({
        path: 'communityUserIds',
        message: 'at least one identifier target is required in communityUserIds or accounts',
      });
    }
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, body: parsed.data };
}

function formatPath(path: PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? '(body)' : out;
}
