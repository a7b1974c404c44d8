/**
 * A local stand-in for the Sonoran CAD v2 API, enough of it for our two endpoints, on
 * 127.0.0.1 (random port):
 *   'calls'  POST /v2/emergency/servers/:serverId/dispatch-calls           create a call
 *   'notes'  POST /v2/emergency/servers/:serverId/dispatch-calls/:callId/notes   add a note
 *
 * const cad = await startLocalCad({
 *   keys?: Record<apiKey, { serverIds: number[] }>,   default { 'test-key': { serverIds: [1] } }
 *   limit?: { requests, windowMs },                   calls: default 20 per 60000 ms
 *   noteLimit?: { requests, windowMs },               notes: default 60 per 60000 ms
 *   now?: () => number,                               clock for the rate limiters and
 *                                                     timestamps; default Date.now()
 *   retryAfter?: 'seconds' | 'date' | 'reset' | 'x-reset' | 'none',   header on a 429
 *   successStatus?: 200 | 201,                        calls: default 201
 *   noteSuccessStatus?: 200 | 201,                    notes: default 200 (as Sonoran documents)
 * })
 * cad.url                      'http://127.0.0.1:PORT' (no trailing slash)
 * cad.calls                    created calls: { callId, body, receivedAt, headers, serverId,
 *                              closedAt?, units: [{ callId, unit, at }] }
 * cad.notes                    accepted notes: { callId, body, receivedAt, headers }
 * cad.requests                 every request: { at, method, path, route?, status, key, body?,
 *                              headers, outcome } (status 0 when reset or hung)
 * cad.count429                 429 answers, both routes, rate limiters and injected alike
 * cad.maxInAnyWindow(key, route = 'calls')   most requests *sent* with the key to the route
 *                              within any windowMs span, 429'd ones and spend() included
 *                              (counted ones can never exceed the limit, so this is the
 *                              number that shows whether a client paces itself)
 * cad.failNext(n, fault, route?)   next n requests that pass the gateway get the fault; with
 *                              a route only requests to it take them (queue order is kept)
 * cad.setOutage(fault | null, route?)   every such request gets it until cleared; without a
 *                              route it sets / clears both routes
 * cad.setRandomFaults({ rate5xx, rateReset, seed } | null)   seeded, deterministic, both routes
 * cad.setLatencyMs(ms)         delay every answer (the request is counted on arrival)
 * cad.spend(key, n, route = 'calls')   n phantom requests now: another user of the same key
 * cad.closeCall(callId)        close a call (as a dispatcher would): later notes to it get 404;
 *                              throws for an unknown or already closed call
 * cad.attach(callId, unit?)    record a unit attached (default unit: 1, 2, ...); no effect on
 *                              answers, for push-event stand-ins; throws like closeCall(callId)
 * await cad.close()            stop the server; also destroys hung and pending connections
 * fault: { status, body?, headers? } | { redirect: url, status?: 301|302|303|307|308 } (an
 *        empty answer with Location: url, default 302) | 'reset' (socket destroyed, no
 *        answer) | 'hang' | 'stall-body' / 'reset-body' (handled as usual, a valid call or
 *        note is stored, then the status line, headers and half the body go out and the rest
 *        never comes / the connection is destroyed) | 'echo-key' (a 400 whose detail quotes
 *        the Authorization header) | 'echo-key-escaped' (the same, JSON-escaped as ASP.NET does)
 *
 * Order of checks: route (404) and method (405); Authorization `Bearer <key>` (401:
 * missing / wrong scheme / invalid key); the route's rate limit per key (429, not counted;
 * each route has its own budget); injected faults (the request still counts: it arrived);
 * serverId configured for the key (404); Content-Type application/json (415) and JSON syntax
 * (400); the body (400, `detail` lists every problem as `path: message`, also given as
 * `errors: [{ path, message }]`); notes only: the call exists on that server (404) and is
 * not closed (404).
 * Bodies: calls as reference/sonoran-v2-create-dispatch-call.md; notes
 * { note, noteType, label }, all non-empty strings, nothing else (schema.ts says why).
 * Answers: calls the stored call with callId, primary, trackPrimary, idents, updated; notes
 * { callId, note } (the note text). The 404 for an unknown or closed call is our assumption:
 * Sonoran documents no answer for it.
 * Every answer has a unique `x-kong-request-id`. Errors are application/problem+json
 * { type, title, status, detail, instance, traceId }, except 429: application/json
 * { message: 'API rate limit exceeded', request_id }.
 * 429 headers by `retryAfter`: 'seconds' Retry-After: <s>; 'date' Retry-After: <HTTP date>;
 * 'reset' RateLimit-Reset: <s> (+ RateLimit-Limit/-Remaining, the route's limit); 'x-reset'
 * X-RateLimit-Reset: <epoch seconds> (+ X-RateLimit-Limit/-Remaining); 'none' nothing.
 * Seconds are rounded up to when the oldest counted request leaves the window (min 1).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Answer as HttpAnswer,
  HungConnections,
  MAX_BODY,
  parseJson,
  readBody,
  settle,
} from '../support/http';
import { RollingWindow } from '../support/rolling-window';
import { type CadRoute, type Fault, FaultPlan, isBodyFault, type RandomFaults } from './faults';
import {
  type CallNoteBody,
  type DispatchCallBody,
  validateCallNote,
  validateDispatchCall,
} from './schema';

export type { CadRoute, Fault, RandomFaults } from './faults';
export type { CallNoteBody, DispatchCallBody } from './schema';

export type RetryAfterMode = 'seconds' | 'date' | 'reset' | 'x-reset' | 'none';

export interface LocalCadOptions {
  keys?: Record<string, { serverIds: number[] }>;
  /** Create-call budget per key. */
  limit?: { requests: number; windowMs: number };
  /** Add-note budget per key, separate from `limit`. */
  noteLimit?: { requests: number; windowMs: number };
  now?: () => number;
  retryAfter?: RetryAfterMode;
  /** Create-call success status. */
  successStatus?: 200 | 201;
  /** Add-note success status. */
  noteSuccessStatus?: 200 | 201;
}

export interface CadCall {
  callId: number;
  body: DispatchCallBody;
  receivedAt: number;
  headers: Record<string, string>;
  serverId: number;
  /** Set by closeCall(callId); notes to the call are refused (404) from then on. */
  closedAt?: number;
  /** Units attached by attach(), in order. */
  units: CadAttachment[];
}

export interface CadAttachment {
  callId: number;
  unit: string | number;
  at: number;
}

export interface CadNote {
  callId: number;
  body: CallNoteBody;
  receivedAt: number;
  headers: Record<string, string>;
}

export interface CadRequest {
  at: number;
  method: string;
  path: string;
  /** 0 when the connection was reset or left hanging. */
  status: number;
  /** The presented bearer token, valid or not; null without one. */
  key: string | null;
  /** Parsed JSON when the body was JSON, else the raw text; absent when empty. */
  body?: unknown;
  headers: Record<string, string>;
  outcome: 'answered' | 'reset' | 'hang';
  /** Set when the answer's body was cut after its status line ('stall-body', 'reset-body'). */
  bodyCut?: 'stall' | 'reset';
  /** True when an injected fault decided the outcome. */
  injected: boolean;
  /** The call this request created, if it did. */
  callId?: number;
  /** The endpoint the path matched; absent when it matched none. */
  route?: CadRoute;
}

type Answer = HttpAnswer<{
  /** Send half the body, then stall or reset (see the body faults). */
  cut?: 'stall' | 'reset';
}>;

// The CAD is another machine: its latency must not stop when a test fakes the timers.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

const CALLS_ROUTE = /^\/v2\/emergency\/servers\/([^/]+)\/dispatch-calls\/?$/;
const NOTES_ROUTE = /^\/v2\/emergency\/servers\/([^/]+)\/dispatch-calls\/([^/]+)\/notes\/?$/;

type ProblemFn = (
  status: number,
  detail: string,
  extra?: Record<string, unknown>,
) => Answer & { kind: 'respond' };

export class LocalCad {
  readonly calls: CadCall[] = [];
  readonly notes: CadNote[] = [];
  readonly requests: CadRequest[] = [];
  count429 = 0;
  url = '';
  private readonly keys: Record<string, { serverIds: number[] }>;
  private readonly windows: Record<CadRoute, RollingWindow>;
  private readonly now: () => number;
  private readonly retryAfter: RetryAfterMode;
  private readonly successStatus: Record<CadRoute, 200 | 201>;
  private readonly faults = new FaultPlan();
  private latencyMs = 0;
  private nextCallId = 1001;
  private nextUnit = 1;
  private readonly hung = new HungConnections();
  private readonly delays = new Set<NodeJS.Timeout>();
  readonly server: Server;

  constructor(opts: LocalCadOptions = {}) {
    this.keys = opts.keys ?? { 'test-key': { serverIds: [1] } };
    const limit = opts.limit ?? { requests: 20, windowMs: 60_000 };
    const noteLimit = opts.noteLimit ?? { requests: 60, windowMs: 60_000 };
    this.windows = {
      calls: new RollingWindow(limit.requests, limit.windowMs),
      notes: new RollingWindow(noteLimit.requests, noteLimit.windowMs),
    };
    // Follows the current global Date, so a test's fake clock moves the window too.
    this.now = opts.now ?? (() => Date.now());
    this.retryAfter = opts.retryAfter ?? 'seconds';
    this.successStatus = {
      calls: opts.successStatus ?? 201,
      notes: opts.noteSuccessStatus ?? 200,
    };
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        }
      });
    });
  }

  maxInAnyWindow(key: string, route: CadRoute = 'calls'): number {
    return this.windows[route].maxInAnyWindow(key);
  }

  failNext(n: number, fault: Fault, route?: CadRoute): void {
    this.faults.failNext(n, fault, route);
  }

  setOutage(fault: Fault | null, route?: CadRoute): void {
    this.faults.setOutage(fault, route);
  }

  setRandomFaults(opts: RandomFaults | null): void {
    this.faults.setRandom(opts);
  }

  setLatencyMs(ms: number): void {
    this.latencyMs = ms;
  }

  spend(key: string, n: number, route: CadRoute = 'calls'): void {
    this.windows[route].spend(key, this.now(), n);
  }

  /** Records a unit attached to the call (no effect on answers yet). */
  attach(callId: number, unit?: string | number): CadAttachment {
    const call = this.openCall(callId, 'attach to');
    const attachment = { callId, unit: unit ?? this.nextUnit++, at: this.now() };
    call.units.push(attachment);
    return attachment;
  }

  /** Stops the server. */
  close(): Promise<void> {
    return this.stop();
  }

  /** Closes a call, as a dispatcher would: notes to it are refused (404) from then on. */
  closeCall(callId: number): void {
    const call = this.openCall(callId, 'close');
    call.closedAt = this.now();
  }

  private openCall(callId: number | undefined, verb: string): CadCall {
    const call = this.calls.find((c) => c.callId === callId);
    if (!call) throw new Error(`LocalCad: cannot ${verb} call ${callId}: no such call`);
    if (call.closedAt !== undefined) {
      throw new Error(`LocalCad: cannot ${verb} call ${callId}: already closed`);
    }
    return call;
  }

  private stop(): Promise<void> {
    for (const t of this.delays) realClearTimeout(t);
    this.delays.clear();
    this.hung.destroyAll();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = this.now();
    res.setHeader('x-kong-request-id', randomUUID());
    const text = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://cad.local');
    const record: CadRequest = {
      at,
      method: req.method ?? 'GET',
      path: url.pathname,
      status: 0,
      key: bearer(req.headers.authorization)?.token ?? null,
      headers: flatHeaders(req),
      outcome: 'answered',
      injected: false,
    };
    if (text !== null && text !== '') record.body = parseJson(text) ?? text;
    this.requests.push(record);

    const answer = this.decide(req, url.pathname, text, at, record, res);
    if (this.latencyMs > 0) await this.sleep(this.latencyMs);
    const respond = settle(answer, req, res, record, this.hung);
    if (record.status === 429) this.count429++;
    if (!respond) return;
    res.writeHead(respond.status, respond.headers);
    if (respond.cut === undefined) {
      res.end(respond.body);
      return;
    }
    record.bodyCut = respond.cut;
    res.write(respond.body.slice(0, Math.floor(respond.body.length / 2)));
    if (respond.cut === 'stall') {
      this.hung.hold(res);
      return;
    }
    // Long enough for the status line and the first half to reach the client.
    await this.sleep(50);
    req.socket.destroy();
  }

  private decide(
    req: IncomingMessage,
    path: string,
    text: string | null,
    at: number,
    record: CadRequest,
    res: ServerResponse,
  ): Answer {
    const problem = (status: number, detail: string, extra: Record<string, unknown> = {}) =>
      problemAnswer(status, detail, path, extra);
    if (text === null) return problem(413, `Request body exceeds ${MAX_BODY} bytes`);
    const callsMatch = CALLS_ROUTE.exec(path);
    const notesMatch = NOTES_ROUTE.exec(path);
    const route: CadRoute | null = callsMatch ? 'calls' : notesMatch ? 'notes' : null;
    if (!route) return problem(404, `No route matches ${req.method} ${path}`);
    record.route = route;
    if (req.method !== 'POST') {
      const a = problem(405, `Method ${req.method} is not allowed; use POST`);
      return { ...a, headers: { ...a.headers, allow: 'POST' } };
    }

    const auth = req.headers.authorization;
    const parsedAuth = bearer(auth);
    if (!auth) return unauthorized(problem(401, 'Missing Authorization header'));
    if (!parsedAuth) return unauthorized(problem(401, 'Authorization scheme must be Bearer'));
    const key = parsedAuth.token;
    const account = this.keys[key];
    if (!account) return unauthorized(problem(401, 'Invalid API key'));

    const window = this.windows[route];
    const admitted = window.admit(key, at);
    if (!admitted.ok) return this.rateLimited(res, at, admitted.retryAfterMs, {}, window);

    const fault = this.faults.take(route);
    if (fault) record.injected = true;
    if (fault && !isBodyFault(fault)) {
      return this.faultAnswer(fault, res, at, key, problem, auth, window);
    }
    const answer = notesMatch
      ? this.handleNote(
          req,
          notesMatch[1] ?? '',
          notesMatch[2] ?? '',
          text,
          at,
          record,
          account,
          problem,
        )
      : this.handleCall(req, callsMatch?.[1] ?? '', text, at, record, account, problem);
    return fault && answer.kind === 'respond'
      ? { ...answer, cut: fault === 'stall-body' ? 'stall' : 'reset' }
      : answer;
  }

  /** The checks both routes share after the gateway: server, content type, JSON syntax. */
  private readJson(
    req: IncomingMessage,
    serverId: string,
    text: string,
    account: { serverIds: number[] },
    problem: ProblemFn,
  ): { ok: true; body: unknown } | { ok: false; answer: Answer } {
    if (!/^\d+$/.test(serverId) || !account.serverIds.includes(Number(serverId))) {
      return {
        ok: false,
        answer: problem(404, `Server ${serverId} is not configured for this community`),
      };
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      return { ok: false, answer: problem(415, 'Content-Type must be application/json') };
    }
    const body = parseJson(text);
    if (body === undefined) {
      return { ok: false, answer: problem(400, 'Request body is not valid JSON') };
    }
    return { ok: true, body };
  }

  private handleCall(
    req: IncomingMessage,
    serverId: string,
    text: string,
    at: number,
    record: CadRequest,
    account: { serverIds: number[] },
    problem: ProblemFn,
  ): Answer {
    const read = this.readJson(req, serverId, text, account, problem);
    if (!read.ok) return read.answer;
    const result = validateDispatchCall(read.body);
    if (!result.ok) return invalid(problem, result.problems);
    const callId = this.nextCallId++;
    record.callId = callId;
    this.calls.push({
      callId,
      body: result.body,
      receivedAt: at,
      headers: record.headers,
      serverId: Number(serverId),
      units: [],
    });
    const created = {
      ...result.body,
      callId,
      primary: 0,
      trackPrimary: false,
      idents: [],
      updated: new Date(at).toISOString(),
    };
    return json(this.successStatus.calls, created);
  }

  private handleNote(
    req: IncomingMessage,
    serverId: string,
    callIdText: string,
    text: string,
    at: number,
    record: CadRequest,
    account: { serverIds: number[] },
    problem: ProblemFn,
  ): Answer {
    const read = this.readJson(req, serverId, text, account, problem);
    if (!read.ok) return read.answer;
    const result = validateCallNote(read.body);
    if (!result.ok) return invalid(problem, result.problems);
    // Sonoran does not document this answer; a 404 is the worst case a client must handle.
    const callId = /^\d+$/.test(callIdText) ? Number(callIdText) : Number.NaN;
    const call = this.calls.find((c) => c.callId === callId && c.serverId === Number(serverId));
    if (!call) return problem(404, `Dispatch call ${callIdText} was not found`);
    if (call.closedAt !== undefined) return problem(404, `Dispatch call ${callId} is closed`);
    this.notes.push({ callId, body: result.body, receivedAt: at, headers: record.headers });
    return json(this.successStatus.notes, { callId, note: result.body.note });
  }

  private faultAnswer(
    fault: Fault,
    res: ServerResponse,
    at: number,
    key: string,
    problem: ProblemFn,
    authorization: string,
    window: RollingWindow,
  ): Answer {
    if (fault === 'reset' || fault === 'hang') return { kind: fault };
    // Body faults are applied to the usual answer in decide().
    if (fault === 'stall-body' || fault === 'reset-body') return problem(500, 'Injected fault');
    if (fault === 'echo-key' || fault === 'echo-key-escaped') {
      const answer = problem(400, `Malformed request header: Authorization: ${authorization}`);
      if (fault === 'echo-key-escaped' && answer.kind === 'respond') {
        answer.body = String(answer.body).replace(
          /[+/=<>&']/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`,
        );
      }
      return answer;
    }
    if ('redirect' in fault) {
      return {
        kind: 'respond',
        status: fault.status ?? 302,
        headers: { location: fault.redirect, 'content-length': '0' },
        body: '',
      };
    }
    const custom = fault.headers ?? {};
    if (fault.body === undefined) {
      if (fault.status === 429) {
        return this.rateLimited(res, at, window.msUntilSlot(key, at), custom, window);
      }
      const a = problem(fault.status, 'Injected fault');
      return { ...a, headers: { ...a.headers, ...custom } };
    }
    const isText = typeof fault.body === 'string';
    return {
      kind: 'respond',
      status: fault.status,
      headers: { 'content-type': isText ? 'text/plain' : 'application/json', ...custom },
      body: isText ? (fault.body as string) : JSON.stringify(fault.body),
    };
  }

  private rateLimited(
    res: ServerResponse,
    at: number,
    retryAfterMs: number,
    custom: Record<string, string>,
    window: RollingWindow,
  ): Answer {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    const limit = String(window.limit);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    switch (this.retryAfter) {
      case 'seconds':
        headers['retry-after'] = String(seconds);
        break;
      case 'date':
        headers['retry-after'] = new Date(
          Math.ceil((at + seconds * 1000) / 1000) * 1000,
        ).toUTCString();
        break;
      case 'reset':
        Object.assign(headers, {
          'ratelimit-limit': limit,
          'ratelimit-remaining': '0',
          'ratelimit-reset': String(seconds),
        });
        break;
      case 'x-reset':
        Object.assign(headers, {
          'x-ratelimit-limit': limit,
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.ceil(at / 1000) + seconds),
        });
        break;
      case 'none':
        break;
    }
    const requestId = String(res.getHeader('x-kong-request-id'));
    return {
      kind: 'respond',
      status: 429,
      headers: { ...headers, ...custom },
      body: JSON.stringify({ message: 'API rate limit exceeded', request_id: requestId }),
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = realSetTimeout(() => {
        this.delays.delete(t);
        resolve();
      }, ms);
      this.delays.add(t);
    });
  }
}

export async function startLocalCad(opts: LocalCadOptions = {}): Promise<LocalCad> {
  const cad = new LocalCad(opts);
  await new Promise<void>((resolve, reject) => {
    cad.server.once('error', reject);
    cad.server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = cad.server.address() as AddressInfo;
  cad.url = `http://127.0.0.1:${port}`;
  return cad;
}

function problemAnswer(
  status: number,
  detail: string,
  instance: string,
  extra: Record<string, unknown>,
): Answer & { kind: 'respond' } {
  return {
    kind: 'respond',
    status,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify({
      type: 'about:blank',
      title: STATUS_CODES[status] ?? 'Error',
      status,
      detail,
      instance,
      traceId: randomBytes(16).toString('hex'),
      ...extra,
    }),
  };
}

/** 400 whose detail lists every problem as `path: message`, also given as `errors`. */
function invalid(problem: ProblemFn, problems: { path: string; message: string }[]): Answer {
  return problem(400, problems.map((p) => `${p.path}: ${p.message}`).join('; '), {
    errors: problems,
  });
}

function unauthorized(a: Answer & { kind: 'respond' }): Answer {
  return { ...a, headers: { ...a.headers, 'www-authenticate': 'Bearer' } };
}

function json(status: number, value: unknown): Answer {
  return {
    kind: 'respond',
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(value),
  };
}

function bearer(header: string | undefined): { token: string } | null {
  const m = /^(\S+)\s+(\S.*)$/.exec(header ?? '');
  const [, scheme, token] = m ?? [];
  if (scheme?.toLowerCase() !== 'bearer' || !token) return null;
  return { token: token.trim() };
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
