/**
 * Staff alerts: the few events staff must hear of without watching the console, posted to a
 * Discord webhook (or any relay that takes Discord's webhook body). Best effort by design: an
 * alert is a copy of something already logged, so a webhook that fails never throws into the
 * caller, never delays or touches a call, and is given up after a few tries. The URL holds
 * the webhook's token, so it is a secret like the API key: the entry point registers it with
 * Secrets, and nothing here puts it in a log line. Pacing and folding: shared/staff-pacing.ts.
 */
import { z } from 'zod';
import {
  classifyWebhook,
  STAFF_EVENTS,
  type StaffEvent,
  type StaffMessage,
  StaffPacing,
  titleOf,
  type WebhookVerdict,
  webhookBody,
} from '../shared/staff-pacing';
import type { Logger } from './log';

export type { StaffEvent } from '../shared/staff-pacing';

/** What a post resolves to: the part of fetch's Response we read. */
export interface StaffResponse {
  status: number;
  headers: Headers;
  text(): Promise<string>;
}

export interface StaffAlertsDeps {
  /** From staffWebhookUrl; null turns alerts off. A secret: never logged, never in chat. */
  url: string | null;
  /** Sends one webhook body; `fetchPost` in production, a fake in tests. */
  post(url: string, body: string, signal: AbortSignal): Promise<StaffResponse>;
  /** Milliseconds, for pacing; a steady clock (shared/delivery/clock.ts) in production. */
  now(): number;
  timers: { set(fn: () => void, ms: number): unknown; clear(h: unknown): void };
  log: Logger;
  /**
   * Milliseconds before a post (body included) is aborted and counted as a failed try.
   * @default 10_000
   */
  timeoutMs?: number;
}

export interface StaffAlerts {
  /** Queues an alert; folded with others of its kind within a minute. Never throws. */
  raise(kind: StaffEvent, detail: string): void;
  /** Stops sending: drops what waits, aborts a post in flight. */
  stop(): void;
}

export const DEFAULT_STAFF_TIMEOUT_MS = 10_000;

/** The production post: fetch, no redirects followed (the body would go wherever they point). */
export const fetchPost: StaffAlertsDeps['post'] = (url, body, signal) =>
  fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body,
    signal,
    redirect: 'manual',
  });

const OFF: StaffAlerts = { raise: () => {}, stop: () => {} };

export function createStaffAlerts(deps: StaffAlertsDeps): StaffAlerts {
  const { url, timers } = deps;
  if (url === null || url === '') return OFF;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_STAFF_TIMEOUT_MS;
  const pacing = new StaffPacing();
  const scrub = scrubber(url);
  let stopped = false;
  let busy = false;
  let wake: { handle: unknown } | null = null;
  let inFlight: AbortController | null = null;
  // One give-up line per bad spell: a Discord outage would otherwise log one per alert.
  let quietDrops = false;

  const warn = (message: string): void => {
    try {
      deps.log.warn(scrub(message));
    } catch {
      // A broken console must not turn an alert into an exception in the caller.
    }
  };

  const clearWake = (): void => {
    if (wake) timers.clear(wake.handle);
    wake = null;
  };

  // One post at a time: Discord's remaining count is only known once the previous answer is in.
  function pump(): void {
    if (stopped || busy) return;
    clearWake();
    const next = pacing.next(deps.now());
    if (next === null) return;
    if ('waitMs' in next) {
      wake = {
        handle: timers.set(() => {
          wake = null;
          safely(pump);
        }, next.waitMs),
      };
      return;
    }
    busy = true;
    try {
      post(next.send);
    } catch {
      // Timers that throw lose this message; they must not stall every later one.
      busy = false;
      inFlight = null;
    }
  }

  /**
   * One try. The timeout settles the try itself instead of waiting for the post to notice
   * its signal: a post that ignores it (a custom one, a body that stalls) must not keep
   * every later alert waiting behind it. Whichever comes first, answer or timeout, decides.
   */
  function post(message: StaffMessage): void {
    const controller = new AbortController();
    inFlight = controller;
    let answered: StaffResponse | null = null;
    let done = false;
    const finish = (verdict: WebhookVerdict): void => {
      if (done) return;
      done = true;
      safely(() => timers.clear(timer));
      inFlight = null;
      busy = false;
      if (!stopped) safely(() => settle(message, verdict));
      safely(pump);
    };
    const timer = timers.set(() => {
      controller.abort();
      // The status line arrived: it is the verdict, whatever happens to the body. Without
      // one, the post may still have been delivered: a rare duplicate beats a lost alert.
      finish(
        answered
          ? verdictOf(answered, '')
          : { type: 'retry', reason: `no answer within ${timeoutMs} ms`, holdMs: 0 },
      );
    }, timeoutMs);
    const exchange = async (): Promise<WebhookVerdict> => {
      const res = await deps.post(url as string, webhookBody(message), controller.signal);
      answered = res;
      let body = '';
      try {
        body = await res.text();
      } catch {
        // As above: the status decides.
      }
      return verdictOf(res, body);
    };
    exchange().then(finish, (err: unknown) =>
      finish({ type: 'retry', reason: errorText(err), holdMs: 0 }),
    );
  }

  function settle(message: StaffMessage, verdict: WebhookVerdict): void {
    const outcome = pacing.settle(message, verdict, deps.now());
    const what = `staff alert "${titleOf(message.kind)}"`;
    if (verdict.type === 'unauthorized') {
      stop();
      warn(
        `the staff webhook refused us (${verdict.reason}): it was deleted or its URL is wrong. No more staff alerts are sent until the resource restarts; set a working URL in the convar sonoran911_webhook or staffWebhook in config.json`,
      );
      return;
    }
    if (outcome === 'sent') {
      quietDrops = false;
      return;
    }
    if (outcome === 'dropped') {
      warn(`${what} was refused by the staff webhook (${verdict.reason}) and is dropped`);
    } else if (outcome === 'gave-up' && !quietDrops) {
      quietDrops = true;
      warn(
        `${what} dropped after ${message.tries} tries (last: ${verdict.reason}); further dropped staff alerts are not reported until one gets through`,
      );
    }
  }

  function stop(): void {
    stopped = true;
    clearWake();
    inFlight?.abort();
    pacing.clear();
  }

  return {
    raise(kind, detail) {
      try {
        if (stopped || !(STAFF_EVENTS as readonly string[]).includes(kind)) return;
        pacing.raise(kind, typeof detail === 'string' ? detail : String(detail), deps.now());
        pump();
      } catch {
        // An alert is never worth an exception in the code that reports a problem.
      }
    },
    stop: () => safely(stop),
  };
}

function verdictOf(res: StaffResponse, body: string): WebhookVerdict {
  // A response without working headers is read as one without rate-limit headers.
  const header = (name: string): string | null => {
    try {
      return res.headers.get(name);
    } catch {
      return null;
    }
  };
  return classifyWebhook({ status: Number(res.status), header, body });
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Timers and callbacks must not throw out of a FiveM tick.
  }
}

/**
 * Removes the URL and its token from a line, in case an error message quotes it; the
 * logger's Secrets do the same once the entry point has registered the URL.
 */
function scrubber(url: string): (text: string) => string {
  const parts = new Set<string>([url, encodeURIComponent(url)]);
  try {
    const parsed = new URL(url);
    parts.add(parsed.href);
    // Discord's webhook id is 17-20 digits and its token 68 characters; shorter segments are
    // words like "webhooks" that a line may need.
    for (const segment of parsed.pathname.split('/')) if (segment.length >= 12) parts.add(segment);
    for (const value of parsed.searchParams.values()) if (value.length >= 12) parts.add(value);
  } catch {
    // Validated before it reaches us; a bad one simply has no parts to add.
  }
  const sorted = [...parts].sort((a, b) => b.length - a.length);
  return (text) => sorted.reduce((out, part) => out.split(part).join('[redacted]'), text);
}

function errorText(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof cause === 'string') return cause;
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : String(err);
}

/** http(s) only, and no user:password@ in it: fetch refuses those, and they would be one more secret. */
const webhookUrlSchema = z
  .url({ protocol: /^https?$/, error: 'is not an http:// or https:// URL' })
  .refine(
    (value) => {
      try {
        const parsed = new URL(value);
        return parsed.username === '' && parsed.password === '';
      } catch {
        return true; // reported by the check above
      }
    },
    { error: 'has a user name or password in it (user:password@host), which is not allowed' },
  );

/**
 * The staff webhook URL: the convar `sonoran911_webhook` wins, an empty one falls back to
 * `staffWebhook` in config.json; neither set turns alerts off quietly. An invalid one turns
 * them off with a warning that says which setting is wrong and how, never its value.
 */
export function staffWebhookUrl(
  convar: string,
  config: string | null,
): { url: string | null; warning?: string } {
  const fromConvar = typeof convar === 'string' ? convar.trim() : '';
  const value = fromConvar !== '' ? fromConvar : typeof config === 'string' ? config.trim() : '';
  if (value === '') return { url: null };
  const source =
    fromConvar !== '' ? 'the convar sonoran911_webhook' : 'staffWebhook in config.json';
  const result = webhookUrlSchema.safeParse(value);
  if (result.success) return { url: result.data };
  const problem = result.error.issues[0]?.message ?? 'is not a valid URL';
  return {
    url: null,
    warning: `staff alerts are off: ${source} ${problem} (the value is a secret and is not shown)`,
  };
}
