// The request body contracts of POST /v2/emergency/servers/{serverId}/dispatch-calls
// (reference/sonoran-v2-create-dispatch-call.md) and of POST .../dispatch-calls/{callId}/notes
// (Sonoran's Add Call Note page), enforced strictly so that anything the real API might
// refuse fails here first.
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

// The Add Call Note page shows only an example, { note, noteType: 'text', label }, with no
// required markers. Sonoran.js treats noteType and label as optional and Sonoran's own
// resource sends `note` alone, but nothing says the API accepts that, so all three are
// required here: a client that passes this stand-in sends what the example sends. noteType
// is not an enum: 'text' and 'link' (Sonoran.js) and 'INFO' (Sonoran.Net) all appear.
export const callNoteBody = z.strictObject({
  note: text.min(1),
  noteType: text.min(1),
  label: text.min(1),
});

export type CallNoteBody = z.infer<typeof callNoteBody>;

export interface Problem {
  path: string;
  message: string;
}

export type Validation<T = DispatchCallBody> =
  | { ok: true; body: T }
  | { ok: false; problems: Problem[] };

export function validateDispatchCall(input: unknown): Validation {
  const parsed = dispatchCallBody.safeParse(input);
  const problems = parsed.success ? [] : issuesToProblems(parsed.error.issues);
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

export function validateCallNote(input: unknown): Validation<CallNoteBody> {
  const parsed = callNoteBody.safeParse(input);
  if (!parsed.success) return { ok: false, problems: issuesToProblems(parsed.error.issues) };
  return { ok: true, body: parsed.data };
}

function issuesToProblems(issues: z.core.$ZodIssue[]): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: key, message: 'unknown property' });
    } else {
      problems.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return problems;
}

function formatPath(path: PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? '(body)' : out;
}
