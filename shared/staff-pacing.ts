/**
 * Pacing and folding for staff alerts (server/staff.ts), pure so tests drive it with plain
 * numbers. Two budgets apply: staff read at most one message per kind per minute, so a burst
 * of dead letters becomes one line and not fifty; and the webhook's own limits, read from its
 * answers (Discord: https://docs.discord.com/developers/topics/rate-limits), never hard-coded,
 * since Discord says they change and a self-hosted relay may have none.
 */

export const STAFF_EVENTS = [
  'keyRefused',
  'outageStarted',
  'outageEnded',
  'deadLetter',
  'queueHalf',
] as const;
export type StaffEvent = (typeof STAFF_EVENTS)[number];

/** One message as it will be posted: every raise of its kind since the previous message. */
export interface StaffMessage {
  kind: StaffEvent;
  /** The newest detail: for an outage it is the current state, for the rest one example. */
  detail: string;
  /** Raises folded into this message, the one shown included. */
  count: number;
  firstAt: number;
  latestAt: number;
  /** Tries already made to post it. */
  tries: number;
}

/** What one answer from the webhook means, decided once (see classifyWebhook). */
export interface WebhookVerdict {
  type: 'sent' | 'retry' | 'rate-limited' | 'rejected' | 'unauthorized';
  /** For the console: status and the webhook's own message, never the URL. */
  reason: string;
  /** Milliseconds the webhook asked us to send nothing at all, whatever happened to this message. */
  holdMs: number;
}

export interface PacingOptions {
  /**
   * Milliseconds between two messages of the same kind; raises in between are folded.
   * @default 60_000
   */
  perKindMs: number;
  /**
   * Tries per message, the first included, before it is given up. 429s count too: the
   * webhook may be shared with another sender that keeps it busy, and an alert that is
   * minutes late is worth little.
   * @default 5
   */
  maxTries: number;
  /**
   * Milliseconds before try `tries + 1` after a network error, timeout or 5xx.
   * @default 2 s, 6 s, 18 s, 54 s
   */
  backoffMs: (tries: number) => number;
  /**
   * Longest hold any answer can impose, in milliseconds: a relay's "Retry-After: 86400"
   * must not silence staff alerts for a day.
   * @default 600_000
   */
  maxHoldMs: number;
}

export const PACING_DEFAULTS = {
  perKindMs: 60_000,
  maxTries: 5,
  backoffMs: (tries: number) => 2_000 * 3 ** Math.max(0, tries - 1),
  maxHoldMs: 600_000,
} satisfies Required<PacingOptions>;

type Bucket = StaffMessage & { notBefore: number };

/** What became of a message after its try: see StaffPacing.settle. */
export type Settled = 'sent' | 'retrying' | 'dropped' | 'gave-up';

export class StaffPacing {
  private readonly opts: PacingOptions;
  /** At most one waiting message per kind: that is what keeps memory and the queue bounded. */
  private readonly buckets = new Map<StaffEvent, Bucket>();
  private readonly lastSent = new Map<StaffEvent, number>();
  private heldUntil = Number.NEGATIVE_INFINITY;

  constructor(options: Partial<PacingOptions> = {}) {
    this.opts = { ...PACING_DEFAULTS, ...options };
  }

  raise(kind: StaffEvent, detail: string, now: number): void {
    const waiting = this.buckets.get(kind);
    if (waiting) {
      waiting.count++;
      waiting.detail = detail;
      waiting.latestAt = now;
      return;
    }
    const last = this.lastSent.get(kind);
    const notBefore = last === undefined ? now : Math.max(now, last + this.opts.perKindMs);
    this.buckets.set(kind, {
      kind,
      detail,
      count: 1,
      firstAt: now,
      latestAt: now,
      tries: 0,
      notBefore,
    });
  }

  /**
   * The message to post now (taken out of its bucket: later raises of its kind start the
   * next one), or how many milliseconds until one is due; null when nothing waits.
   * Oldest first, so a kind that raises often cannot starve the others.
   */
  next(now: number): { send: StaffMessage } | { waitMs: number } | null {
    let due: Bucket | undefined;
    let soonest = Number.POSITIVE_INFINITY;
    for (const b of this.buckets.values()) {
      const at = Math.max(b.notBefore, this.heldUntil);
      if (at <= now) {
        // Ties go to a message already tried: it has waited longest in truth.
        if (!due || b.firstAt < due.firstAt || (b.firstAt === due.firstAt && b.tries > due.tries))
          due = b;
      } else soonest = Math.min(soonest, at);
    }
    if (due) {
      this.buckets.delete(due.kind);
      this.lastSent.set(due.kind, now);
      const { notBefore: _, ...message } = due;
      return { send: { ...message, tries: message.tries + 1 } };
    }
    return soonest === Number.POSITIVE_INFINITY ? null : { waitMs: soonest - now };
  }

  /**
   * Applies the webhook's verdict on a message from next(). A message that may be tried
   * again goes back to its kind's bucket with whatever was raised meanwhile: it was never
   * posted, so the raises belong in it rather than in a message a minute later.
   */
  settle(message: StaffMessage, verdict: WebhookVerdict, now: number): Settled {
    const hold = Math.min(Math.max(0, verdict.holdMs), this.opts.maxHoldMs);
    this.heldUntil = Math.max(this.heldUntil, now + hold);
    if (verdict.type === 'sent') return 'sent';
    if (verdict.type === 'rejected' || verdict.type === 'unauthorized') return 'dropped';
    if (message.tries >= this.opts.maxTries) return 'gave-up';
    // A 429 names its own wait (the hold above); anything else backs off.
    const notBefore = verdict.type === 'retry' ? now + this.opts.backoffMs(message.tries) : now;
    const meanwhile = this.buckets.get(message.kind);
    this.buckets.set(message.kind, {
      ...message,
      detail: meanwhile?.detail ?? message.detail,
      count: message.count + (meanwhile?.count ?? 0),
      latestAt: meanwhile?.latestAt ?? message.latestAt,
      notBefore,
    });
    return 'retrying';
  }

  /** Messages waiting, for tests and for a status line. */
  size(): number {
    return this.buckets.size;
  }

  clear(): void {
    this.buckets.clear();
  }
}

/** One answer from the webhook, headers by lower-case name. */
export interface WebhookAnswer {
  status: number;
  header(name: string): string | null;
  body: string;
}

/**
 * The one place that reads a webhook's answer. Discord documents (rate-limits page):
 * `X-RateLimit-Remaining` and `X-RateLimit-Reset-After` (seconds, with decimals) on every
 * answer; on a 429 a JSON `retry_after` (seconds, float) and a `Retry-After` header. We wait
 * for the longest of what is given, so a relay that sends only one of them is honoured too.
 */
export function classifyWebhook(answer: WebhookAnswer): WebhookVerdict {
  const { status } = answer;
  const remaining = numberOf(answer.header('x-ratelimit-remaining'));
  const resetAfter = numberOf(answer.header('x-ratelimit-reset-after'));
  // The bucket is empty: the next request would be a 429, which Discord counts against
  // the invalid-request limit that ends in a temporary ban of the whole IP.
  const bucketHold = remaining !== null && remaining <= 0 && resetAfter !== null ? resetAfter : 0;
  const error = discordError(answer.body);
  const said = error ? `: ${error}` : '';
  if (status >= 200 && status < 300) {
    return { type: 'sent', reason: `HTTP ${status}`, holdMs: toMs(bucketHold) };
  }
  if (status === 429) {
    const bodyWait = numberOf(jsonField(answer.body, 'retry_after'));
    const headerWait = numberOf(answer.header('retry-after'));
    const seconds = Math.max(bodyWait ?? 0, headerWait ?? 0, bucketHold);
    // Nothing said how long: one second, Discord's smallest usual window.
    const holdMs = toMs(seconds > 0 ? seconds : 1);
    return { type: 'rate-limited', reason: `HTTP 429${said}`, holdMs };
  }
  // 404 Unknown Webhook (deleted), 401 Invalid Webhook Token; 403 is refused for good too,
  // and all three count against Discord's invalid-request limit, so they end sending.
  if (status === 401 || status === 403 || status === 404) {
    return { type: 'unauthorized', reason: `HTTP ${status}${said}`, holdMs: 0 };
  }
  if (status >= 500 || status === 408) {
    // A 503 may say when to come back; that is a hold like any other.
    const headerWait = numberOf(answer.header('retry-after')) ?? 0;
    return { type: 'retry', reason: `HTTP ${status}${said}`, holdMs: toMs(headerWait) };
  }
  // 3xx (not followed: the body would go wherever the redirect points) and the other 4xx:
  // this message will never be taken, the next may be.
  return { type: 'rejected', reason: `HTTP ${status}${said}`, holdMs: toMs(bucketHold) };
}

function toMs(seconds: number): number {
  return Math.ceil(seconds * 1000);
}

function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  if (typeof value !== 'string' || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function jsonField(body: string, field: string): unknown {
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>)[field] : null;
  } catch {
    return null;
  }
}

/** Discord's `{ message, code }`, short, for the console. */
function discordError(body: string): string | null {
  const message = jsonField(body, 'message');
  if (typeof message !== 'string' || message === '') return null;
  const code = jsonField(body, 'code');
  const text = typeof code === 'number' ? `${message} (code ${code})` : message;
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

const TITLES: Record<StaffEvent, string> = {
  keyRefused: 'Sonoran CAD refused the API key',
  outageStarted: 'Sonoran CAD outage started',
  outageEnded: 'Sonoran CAD outage ended',
  deadLetter: 'A 911 call became a dead letter',
  queueHalf: 'The 911 call queue is past half full',
};

const NOUNS: Record<StaffEvent, [one: string, many: string]> = {
  keyRefused: ['refusal of the key', 'refusals of the key'],
  outageStarted: ['outage start', 'outage starts'],
  outageEnded: ['outage end', 'outage ends'],
  deadLetter: ['dead letter', 'dead letters'],
  queueHalf: ['queue warning', 'queue warnings'],
};

// Discord's embed colours: red for what loses calls, amber for a warning, green for relief.
const COLORS: Record<StaffEvent, number> = {
  keyRefused: 0xed4245,
  outageStarted: 0xfaa61a,
  outageEnded: 0x57f287,
  deadLetter: 0xed4245,
  queueHalf: 0xfaa61a,
};

/** Discord's limits for an embed description (4096) and title (256). */
const MAX_DESCRIPTION = 4096;

/** The webhook body for a message: one embed, no pings whatever the detail contains. */
export function webhookBody(message: StaffMessage): string {
  const more = message.count - 1;
  const tail = more > 0 ? `\n\n…and ${more} more ${NOUNS[message.kind][more === 1 ? 0 : 1]}` : '';
  const room = MAX_DESCRIPTION - tail.length;
  const detail =
    message.detail.length > room ? `${message.detail.slice(0, room - 1)}…` : message.detail;
  return JSON.stringify({
    embeds: [
      {
        title: TITLES[message.kind],
        description: `${detail || '(no detail)'}${tail}`,
        color: COLORS[message.kind],
        timestamp: isoTime(message.latestAt),
      },
    ],
    username: 'sonoran-911',
    // A detail could hold "@everyone" or a role mention typed by a player.
    allowed_mentions: { parse: [] },
  });
}

/** An ISO time Discord accepts; a clock gone wrong must not make toISOString throw. */
function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
}

export function titleOf(kind: StaffEvent): string {
  return TITLES[kind];
}
