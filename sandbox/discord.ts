/**
 * A local stand-in for a Discord webhook, enough of it for staff alerts (server/staff.ts):
 * POST /api/webhooks/:id/:token on 127.0.0.1 (random port).
 *
 * const hook = await startLocalDiscord({
 *   limit?: { requests, windowMs },   default 5 per 2000 ms, one bucket as Discord's webhook
 *                                     route has (a window opens at its first request)
 *   now?: () => number,               clock for the window and timestamps; default Date.now()
 * })
 * hook.url                  the webhook URL, id and token included (a secret in real life)
 * hook.messages             accepted messages: { body, at, wait }
 * hook.requests             every request: { at, status, body?, outcome }
 * hook.count429             429 answers, limiter and injected alike
 * hook.maxInAnyWindow()     most requests sent within any windowMs span, 429'd ones included
 * hook.failNext(n, fault)   the next n requests past the limiter get the fault
 * hook.setOutage(fault)     every such request gets it until cleared (null)
 * hook.spend(n)             n phantom requests now: another sender on the same webhook
 * hook.deleteWebhook()      from now on 404 Unknown Webhook, as after a delete in Discord
 * await hook.close()        also destroys hung connections
 * fault: { status, body?, headers? } | 'hang' (never answered) | 'reset' (socket destroyed)
 *
 * As Discord answers (https://docs.discord.com/developers/topics/rate-limits and
 * .../resources/webhook#execute-webhook): every answer but a route miss carries
 * X-RateLimit-Limit, -Remaining, -Reset (epoch seconds), -Reset-After (seconds, decimals)
 * and -Bucket; past the limit a 429 with Retry-After and `{ message, retry_after, global:
 * false }` (retry_after in seconds, a float); a 429 is not counted, every other request is,
 * failed ones included. Order of checks: route (404 `{ message: '404: Not Found', code: 0 }`)
 * and method (405); webhook (404 Unknown Webhook 10015, 401 Invalid Webhook Token 50027);
 * rate limit; injected faults; body: JSON (50109), then content or embeds required (400
 * Cannot send an empty message, 50006), then the form (400 Invalid Form Body, 50035, with
 * Discord's nested `errors: { field: { _errors: [{ code, message }] } }`). Success: 204, or
 * 200 with the message object when the query has `wait=true`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Answer, HungConnections, parseJson, readBody, settle } from './support/http';

export type DiscordFault =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | 'hang'
  | 'reset';

export interface LocalDiscordOptions {
  limit?: { requests: number; windowMs: number };
  now?: () => number;
}

export interface DiscordMessage {
  body: Record<string, unknown>;
  at: number;
  wait: boolean;
}

export interface DiscordRequest {
  at: number;
  /** 0 when the connection was reset or left hanging. */
  status: number;
  body?: unknown;
  outcome: 'answered' | 'reset' | 'hang';
}

/** Discord's limits for what a webhook message may hold. */
export const DISCORD_LIMITS = {
  content: 2000,
  embeds: 10,
  title: 256,
  description: 4096,
  embedTotal: 6000,
  username: 80,
} as const;

interface FormError {
  path: (string | number)[];
  code: string;
  message: string;
}

const ROUTE = /^\/api(?:\/v\d+)?\/webhooks\/([^/]+)\/([^/]+)\/?$/;

export class LocalDiscord {
  readonly messages: DiscordMessage[] = [];
  readonly requests: DiscordRequest[] = [];
  count429 = 0;
  url = '';
  readonly id = String(100_000_000_000_000_000n + BigInt(randomBytes(6).readUIntBE(0, 6)));
  readonly token = randomBytes(51).toString('base64url');
  readonly server: Server;
  private readonly limit: { requests: number; windowMs: number };
  private readonly now: () => number;
  private readonly bucket = randomBytes(16).toString('hex');
  private window: { start: number; count: number } | null = null;
  private readonly sent: number[] = [];
  private readonly planned: DiscordFault[] = [];
  private outage: DiscordFault | null = null;
  private deleted = false;
  private readonly hung = new HungConnections();

  constructor(opts: LocalDiscordOptions = {}) {
    this.limit = opts.limit ?? { requests: 5, windowMs: 2_000 };
    this.now = opts.now ?? (() => Date.now());
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        }
      });
    });
  }

  failNext(n: number, fault: DiscordFault): void {
    for (let i = 0; i < n; i++) this.planned.push(fault);
  }

  setOutage(fault: DiscordFault | null): void {
    this.outage = fault;
  }

  spend(n: number): void {
    const at = this.now();
    for (let i = 0; i < n; i++) {
      this.sent.push(at);
      this.open(at).count++;
    }
  }

  deleteWebhook(): void {
    this.deleted = true;
  }

  maxInAnyWindow(): number {
    const times = [...this.sent].sort((a, b) => a - b);
    let best = 0;
    let start = 0;
    for (let end = 0; end < times.length; end++) {
      while ((times[end] ?? 0) - (times[start] ?? 0) >= this.limit.windowMs) start++;
      best = Math.max(best, end - start + 1);
    }
    return best;
  }

  close(): Promise<void> {
    this.hung.destroyAll();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = this.now();
    const text = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://discord.local');
    const record: DiscordRequest = { at, status: 0, outcome: 'answered' };
    if (text) record.body = parseJson(text) ?? text;
    this.requests.push(record);
    const answer = settle(this.decide(req, url, text, at), req, res, record, this.hung);
    if (record.status === 429) this.count429++;
    if (!answer) return;
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  private decide(req: IncomingMessage, url: URL, text: string | null, at: number): Answer {
    const route = ROUTE.exec(url.pathname);
    if (!route) return json(404, { message: '404: Not Found', code: 0 });
    if (req.method !== 'POST') return json(405, { message: '405: Method Not Allowed', code: 0 });
    if (this.deleted || route[1] !== this.id) {
      return json(404, { message: 'Unknown Webhook', code: 10015 });
    }
    if (route[2] !== this.token)
      return json(401, { message: 'Invalid Webhook Token', code: 50027 });

    this.sent.push(at);
    const window = this.open(at);
    const resetAfter = (window.start + this.limit.windowMs - at) / 1000;
    if (window.count >= this.limit.requests) {
      const a = json(429, {
        message: 'You are being rate limited.',
        retry_after: round(resetAfter),
        global: false,
      });
      return withHeaders(a, {
        ...this.rateHeaders(window, at),
        'retry-after': String(Math.max(1, Math.ceil(resetAfter))),
        'x-ratelimit-scope': 'user',
      });
    }
    window.count++;
    const headers = this.rateHeaders(window, at);

    const fault = this.planned.shift() ?? this.outage;
    if (fault === 'hang' || fault === 'reset') return { kind: fault };
    if (fault) {
      const body = fault.body ?? { message: `${fault.status}: Injected fault`, code: 0 };
      return withHeaders(json(fault.status, body), { ...headers, ...fault.headers });
    }

    if (text === null) {
      return withHeaders(json(413, { message: 'Request entity too large', code: 40005 }), headers);
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    const body = type === 'application/json' ? parseJson(text) : {};
    if (body === undefined) {
      return withHeaders(
        json(400, { message: 'The request body contains invalid JSON.', code: 50109 }),
        headers,
      );
    }
    const problem = validate(body);
    if (problem) return withHeaders(json(400, problem), headers);
    const message = body as Record<string, unknown>;
    const wait = url.searchParams.get('wait') === 'true';
    this.messages.push({ body: message, at, wait });
    if (!wait) return { kind: 'respond', status: 204, headers, body: '' };
    return withHeaders(
      json(200, {
        id: String(BigInt(at) * 4_194_304n + BigInt(this.messages.length)),
        type: 0,
        channel_id: '100000000000000001',
        webhook_id: this.id,
        author: { id: this.id, username: message.username ?? 'Captain Hook', bot: true },
        content: message.content ?? '',
        embeds: message.embeds ?? [],
        mentions: [],
        timestamp: new Date(at).toISOString(),
      }),
      headers,
    );
  }

  /** Discord's bucket: opens at its first request and resets windowMs later. */
  private open(at: number): { start: number; count: number } {
    if (!this.window || at >= this.window.start + this.limit.windowMs) {
      this.window = { start: at, count: 0 };
    }
    return this.window;
  }

  private rateHeaders(
    window: { start: number; count: number },
    at: number,
  ): Record<string, string> {
    const resetAt = window.start + this.limit.windowMs;
    return {
      'x-ratelimit-limit': String(this.limit.requests),
      'x-ratelimit-remaining': String(Math.max(0, this.limit.requests - window.count)),
      'x-ratelimit-reset': String(round(resetAt / 1000)),
      'x-ratelimit-reset-after': String(round((resetAt - at) / 1000)),
      'x-ratelimit-bucket': this.bucket,
    };
  }
}

export async function startLocalDiscord(opts: LocalDiscordOptions = {}): Promise<LocalDiscord> {
  const hook = new LocalDiscord(opts);
  await new Promise<void>((resolve, reject) => {
    hook.server.once('error', reject);
    hook.server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = hook.server.address() as AddressInfo;
  hook.url = `http://127.0.0.1:${port}/api/webhooks/${hook.id}/${hook.token}`;
  return hook;
}

/** Discord's answer to a body it will not post, or null when it would post it. */
export function validate(body: unknown): Record<string, unknown> | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return { message: 'Cannot send an empty message', code: 50006 };
  }
  const b = body as Record<string, unknown>;
  const errors: FormError[] = [];
  const maxLength = (path: (string | number)[], value: unknown, max: number): void => {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string') {
      errors.push({ path, code: 'BASE_TYPE_STRING', message: 'This field must be a string.' });
    } else if (value.length > max) {
      errors.push({
        path,
        code: 'BASE_TYPE_MAX_LENGTH',
        message: `Must be ${max} or fewer in length.`,
      });
    }
  };
  maxLength(['content'], b.content, DISCORD_LIMITS.content);
  maxLength(['username'], b.username, DISCORD_LIMITS.username);
  if (typeof b.username === 'string' && /discord|clyde/i.test(b.username)) {
    errors.push({
      path: ['username'],
      code: 'USERNAME_INVALID_CONTAINS',
      message: 'Username cannot contain "discord"',
    });
  }
  const embeds = b.embeds;
  if (embeds !== undefined && embeds !== null && !Array.isArray(embeds)) {
    errors.push({
      path: ['embeds'],
      code: 'BASE_TYPE_LIST',
      message: 'This field must be a list.',
    });
  } else if (Array.isArray(embeds)) {
    if (embeds.length > DISCORD_LIMITS.embeds) {
      errors.push({
        path: ['embeds'],
        code: 'BASE_TYPE_MAX_LENGTH',
        message: `Must be ${DISCORD_LIMITS.embeds} or fewer in length.`,
      });
    }
    let total = 0;
    embeds.forEach((embed: unknown, i) => {
      if (!embed || typeof embed !== 'object') {
        errors.push({
          path: ['embeds', i],
          code: 'MODEL_TYPE_CONVERT',
          message: 'Only dictionaries may be used in a ModelType',
        });
        return;
      }
      const e = embed as Record<string, unknown>;
      maxLength(['embeds', i, 'title'], e.title, DISCORD_LIMITS.title);
      maxLength(['embeds', i, 'description'], e.description, DISCORD_LIMITS.description);
      total +=
        (typeof e.title === 'string' ? e.title.length : 0) +
        (typeof e.description === 'string' ? e.description.length : 0);
      if (
        e.color !== undefined &&
        !(Number.isInteger(e.color) && (e.color as number) >= 0 && (e.color as number) <= 0xffffff)
      ) {
        errors.push({
          path: ['embeds', i, 'color'],
          code: 'NUMBER_TYPE_MAX',
          message: 'Int value should be less than or equal to 16777215.',
        });
      }
      if (
        e.timestamp !== undefined &&
        (typeof e.timestamp !== 'string' || Number.isNaN(Date.parse(e.timestamp)))
      ) {
        errors.push({
          path: ['embeds', i, 'timestamp'],
          code: 'DATE_TYPE_PARSE',
          message: 'Could not parse timestamp. Should be ISO8601.',
        });
      }
    });
    if (total > DISCORD_LIMITS.embedTotal) {
      errors.push({
        path: ['embeds'],
        code: 'MAX_EMBED_SIZE_EXCEEDED',
        message: 'Embed size exceeds maximum size of 6000',
      });
    }
  }
  if (errors.length > 0) return { code: 50035, errors: nest(errors), message: 'Invalid Form Body' };
  const hasContent = typeof b.content === 'string' && b.content.trim() !== '';
  const hasEmbeds = Array.isArray(embeds) && embeds.length > 0;
  if (!hasContent && !hasEmbeds) return { message: 'Cannot send an empty message', code: 50006 };
  return null;
}

/** Discord's error tree: `{ embeds: { 0: { title: { _errors: [...] } } } }`. */
function nest(errors: FormError[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const { path, code, message } of errors) {
    let node = root;
    for (const key of path) {
      const k = String(key);
      node[k] ??= {};
      node = node[k] as Record<string, unknown>;
    }
    node._errors ??= [];
    (node._errors as { code: string; message: string }[]).push({ code, message });
  }
  return root;
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

function json(status: number, value: unknown): Answer & { kind: 'respond' } {
  return {
    kind: 'respond',
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(value),
  };
}

function withHeaders(a: Answer & { kind: 'respond' }, headers: Record<string, string>): Answer {
  return { ...a, headers: { ...a.headers, ...headers } };
}
