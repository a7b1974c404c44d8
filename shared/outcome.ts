/**
 * The one place that turns an HTTP attempt into what the sender should do. Every caller acts
 * on the Outcome, never on a raw status code.
 */
export type HttpAttempt =
  | { kind: 'response'; status: number; headers: Readonly<Record<string, string>>; body: string }
  | { kind: 'timeout' }
  | { kind: 'network'; message: string };

/** What support asks for when the CAD refuses something. */
export interface Problem {
  status?: number;
  title?: string;
  detail?: string;
  traceId?: string;
  /** The gateway's x-kong-request-id header. */
  requestId?: string;
}

export type Outcome =
  | { type: 'sent'; callId: number | string | null }
  | { type: 'rate-limited'; waitMs: number; hint: string; problem: Problem }
  | { type: 'retry'; reason: string; problem: Problem }
  | { type: 'rejected'; reason: string; problem: Problem }
  | { type: 'unauthorized'; reason: string; problem: Problem };

export interface ClassifyContext {
  now: number;
  /** The rate window: the wait when a 429 says nothing, and the base of the clamp. */
  windowMs: number;
}

/** A 429 wait shorter than this is noise; longer than 5 windows is a broken header. */
const MIN_WAIT_MS = 1_000;
const MAX_WINDOWS = 5;

export function classify(attempt: HttpAttempt, ctx: ClassifyContext): Outcome {
  if (attempt.kind === 'timeout') return { type: 'retry', reason: 'timed out', problem: {} };
  if (attempt.kind === 'network') {
    return { type: 'retry', reason: `network error: ${attempt.message}`, problem: {} };
  }
  const { status } = attempt;
  const headers = lowerKeys(attempt.headers);
  if (status >= 200 && status < 300) return { type: 'sent', callId: readCallId(attempt.body) };

  const problem = readProblem(status, headers, attempt.body);
  const reason = problem.detail ?? problem.title ?? `HTTP ${status}`;
  if (status === 429) {
    const { waitMs, hint } = rateLimitWait(headers, ctx);
    return { type: 'rate-limited', waitMs, hint, problem };
  }
  if (status === 401 || status === 403) return { type: 'unauthorized', reason, problem };
  // 4xx other than these means the CAD read the request and will never accept it as is.
  if (status >= 400 && status < 500 && status !== 408) return { type: 'rejected', reason, problem };
  return { type: 'retry', reason: `HTTP ${status}: ${reason}`, problem };
}

/** How long to pause the whole key after a 429, from the first header that makes sense. */
export function rateLimitWait(
  headers: Readonly<Record<string, string>>,
  ctx: ClassifyContext,
): { waitMs: number; hint: string } {
  const h = lowerKeys(headers);
  const candidates: [string, number | null][] = [
    ['retry-after', parseRetryAfter(h['retry-after'], ctx.now)],
    ['ratelimit-reset', parseReset(h['ratelimit-reset'], ctx.now)],
    ['x-ratelimit-reset', parseReset(h['x-ratelimit-reset'], ctx.now)],
  ];
  const found = candidates.find(([, ms]) => ms !== null);
  const [hint, raw] = found ?? ['full window', ctx.windowMs];
  const waitMs = Math.min(Math.max(raw ?? ctx.windowMs, MIN_WAIT_MS), ctx.windowMs * MAX_WINDOWS);
  return { waitMs, hint };
}

/** Retry-After is delta-seconds or an HTTP date (RFC 9110). */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return null;
  const at = Date.parse(v);
  return Number.isFinite(at) ? at - now : null;
}

/**
 * RateLimit-Reset is delta-seconds in the IETF draft; X-RateLimit-Reset is epoch seconds on
 * some gateways and delta on others. Values too large to be a delta are read as epochs.
 */
export function parseReset(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (!/^\d+(\.\d+)?$/.test(v)) return null;
  const n = Number(v);
  if (n >= 1e12) return n - now;
  if (n >= 1e9) return n * 1000 - now;
  return n * 1000;
}

function readCallId(body: string): number | string | null {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'callId' in parsed) {
      const id = (parsed as { callId: unknown }).callId;
      if (typeof id === 'number' || typeof id === 'string') return id;
    }
  } catch {
    // A 2xx with an unreadable body still created the call; sending it again would duplicate it.
  }
  return null;
}

function readProblem(status: number, headers: Record<string, string>, body: string): Problem {
  const problem: Problem = { status };
  const requestId = headers['x-kong-request-id'];
  if (requestId) problem.requestId = requestId;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') {
      const p = parsed as Record<string, unknown>;
      if (typeof p.title === 'string') problem.title = p.title.slice(0, 200);
      if (typeof p.detail === 'string') problem.detail = p.detail.slice(0, 500);
      // The gateway's 429 body says { message, request_id } instead of problem+json.
      else if (typeof p.message === 'string') problem.detail = p.message.slice(0, 500);
      if (typeof p.traceId === 'string') problem.traceId = p.traceId.slice(0, 100);
      else if (typeof p.request_id === 'string') problem.traceId = p.request_id.slice(0, 100);
    }
  } catch {
    // Not JSON (an HTML error page from a proxy, say): the status alone has to do.
  }
  return problem;
}

function lowerKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}
