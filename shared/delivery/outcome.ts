/**
 * The one place that turns an HTTP attempt into what the sender should do. Every caller acts
 * on the Outcome, never on a raw status code.
 */
export type HttpAttempt =
  | {
      kind: 'response';
      status: number;
      headers: Readonly<Record<string, string>>;
      body: string;
      /**
       * Set when the status line arrived but the body did not (it stalled past the timeout,
       * or the connection dropped): the status is still the CAD's verdict, the body is not.
       */
      bodyLost?: string;
    }
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

/** What players, logs, events and callbacks are shown when the CAD gave no usable number. */
export const UNKNOWN_CALL_ID = 'unknown';

export type Outcome =
  /** callId: a plain call number (see readCallId), else UNKNOWN_CALL_ID. */
  | { type: 'sent'; callId: number | string }
  | { type: 'rate-limited'; waitMs: number; hint: string; problem: Problem }
  | { type: 'retry'; reason: string; problem: Problem }
  | { type: 'rejected'; reason: string; problem: Problem }
  | { type: 'unauthorized'; reason: string; problem: Problem };

export interface ClassifyContext {
  now: number;
  /** The wall clock, for absolute times in headers (an HTTP date, an epoch); default `now`. */
  wallNow?: number;
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
  // The status line is the CAD's verdict: a 2xx created the call even if its body broke off,
  // and sending it again would create it twice.
  if (status >= 200 && status < 300) {
    const callId = attempt.bodyLost === undefined ? readCallId(attempt.body) : UNKNOWN_CALL_ID;
    return { type: 'sent', callId };
  }
  if (status >= 300 && status < 400) {
    // Never followed (the transport sends with redirect: 'manual'): a followed 302 turns the
    // POST into a GET elsewhere whose 200 would count as created, a 307 sends the call to a
    // host nobody configured, and every hop is a request the budget never counts. A redirect
    // means api.baseUrl is wrong (or the CAD is being moved): retried with the key's backoff,
    // so the calls are kept and go out once it stops.
    const where = describeLocation(headers.location);
    return {
      type: 'retry',
      reason: `HTTP ${status} redirect to ${where}, not followed: check api.baseUrl in config.json`,
      problem: { status },
    };
  }

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
    // A date or an epoch is the CAD's wall clock: compared with ours, not the steady one.
    ['retry-after', parseRetryAfter(h['retry-after'], ctx.wallNow ?? ctx.now)],
    ['ratelimit-reset', parseReset(h['ratelimit-reset'], ctx.wallNow ?? ctx.now)],
    ['x-ratelimit-reset', parseReset(h['x-ratelimit-reset'], ctx.wallNow ?? ctx.now)],
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

/**
 * The call number as players, logs, events and callbacks see it: a whole number, or at most
 * 32 letters, digits and "-". Anything else (markup, colour codes, a 5,000-character string)
 * is the CAD's or a proxy's noise, and shown as UNKNOWN_CALL_ID.
 */
export function readCallId(body: string): number | string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'callId' in parsed) {
      const id = (parsed as { callId: unknown }).callId;
      if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
      if (typeof id === 'string' && /^[A-Za-z0-9-]{1,32}$/.test(id)) return id;
    }
  } catch {
    // A 2xx with an unreadable body still created the call; sending it again would duplicate it.
  }
  return UNKNOWN_CALL_ID;
}

/**
 * Where a redirect pointed, for the console: scheme, host and path only. A user name,
 * password, query or fragment can carry a secret, so they are only said to be there.
 */
export function describeLocation(value: string | undefined): string {
  if (value === undefined || value.trim() === '') return '(no Location header)';
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return '(an unreadable Location header)';
  }
  const userinfo = url.username !== '' || url.password !== '' ? '…@' : '';
  const rest = (url.search !== '' ? '?…' : '') + (url.hash !== '' ? '#…' : '');
  const text = `${url.protocol}//${userinfo}${url.host}${url.pathname}${rest}`;
  // Nothing a chat line or the console would render: URL parsing already escaped controls.
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
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
