// Staff alerts on a fake clock with a fake webhook: what is posted when, what is folded, how
// the webhook's limits and failures are honoured, and that none of it reaches the caller or
// puts the URL in a log line.
import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from '../../sandbox/support/clock';
import type { Logger } from '../../server/log';
import { createStaffAlerts, type StaffResponse, staffWebhookUrl } from '../../server/staff';
import { classifyWebhook, StaffPacing } from '../../shared/staff-pacing';

const TOKEN = 'tok3nAbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_secretpart';
const URL_ = `https://discord.com/api/webhooks/123456789012345678/${TOKEN}`;

type Reply =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | 'hang'
  | 'network';

interface Posted {
  at: number;
  url: string;
  body: {
    content?: string;
    username: string;
    allowed_mentions: unknown;
    embeds: { title: string; description: string; color: number; timestamp: string }[];
  };
}

function setup(opts: { url?: string | null; timeoutMs?: number } = {}) {
  const clock = new FakeClock();
  const posts: Posted[] = [];
  const replies: Reply[] = [];
  const lines: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const log: Logger = {
    info: (m) => lines.push(m),
    warn: (m) => lines.push(m),
    error: (m) => lines.push(m),
  };
  const post = (url: string, body: string, signal: AbortSignal): Promise<StaffResponse> => {
    posts.push({ at: clock.now(), url, body: JSON.parse(body) });
    const reply = replies.shift() ?? { status: 204 };
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const done = <T>(p: Promise<T>) => p.finally(() => inFlight--);
    if (reply === 'hang') {
      return done(
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
        ),
      );
    }
    if (reply === 'network') {
      // undici's wording, with the URL in it, as some fetch errors have.
      return done(Promise.reject(new TypeError(`request to ${url} failed, reason: ECONNRESET`)));
    }
    const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
    return done(
      Promise.resolve({
        status: reply.status,
        headers: new Headers(reply.headers ?? {}),
        text: async () => text,
      }),
    );
  };
  const alerts = createStaffAlerts({
    url: opts.url === undefined ? URL_ : opts.url,
    post,
    now: clock.now,
    timers: clock.timers_,
    log,
    timeoutMs: opts.timeoutMs ?? 5_000,
  });
  return { clock, posts, replies, lines, alerts, maxInFlight: () => maxInFlight };
}

const descriptions = (posts: Posted[]) => posts.map((p) => p.body.embeds[0]?.description);

describe('staff alerts: what is posted', () => {
  it('posts one embed per event, named as the brief says, with no pings', async () => {
    const { clock, posts, alerts } = setup();
    alerts.raise('keyRefused', 'HTTP 401 Invalid API key');
    await clock.advance(0);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.url).toBe(URL_);
    expect(posts[0]?.body).toEqual({
      embeds: [
        {
          title: 'Sonoran CAD refused the API key',
          description: 'HTTP 401 Invalid API key',
          color: 0xed4245,
          timestamp: new Date(0).toISOString(),
        },
      ],
      username: 'sonoran-911',
      allowed_mentions: { parse: [] },
    });
  });

  it('keeps a huge detail within Discord embed limits', async () => {
    const { clock, posts, alerts } = setup();
    alerts.raise('deadLetter', 'x'.repeat(10_000));
    alerts.raise('deadLetter', 'y'.repeat(10_000));
    alerts.raise('deadLetter', 'z'.repeat(10_000));
    await clock.advance(60_000);
    for (const p of posts) expect(p.body.embeds[0]?.description.length).toBeLessThanOrEqual(4096);
    expect(posts[1]?.body.embeds[0]?.description).toMatch(/…\n\n…and 1 more dead letter$/);
  });

  it('does nothing without a URL', async () => {
    const { clock, posts, alerts } = setup({ url: null });
    alerts.raise('deadLetter', 'x');
    await clock.advance(120_000);
    expect(posts).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });
});

describe('staff alerts: pacing and folding', () => {
  it('sends at most one message per kind per minute and folds the rest into the next', async () => {
    const { clock, posts, alerts } = setup();
    alerts.raise('deadLetter', 'call a');
    await clock.advance(1_000);
    alerts.raise('deadLetter', 'call b');
    alerts.raise('deadLetter', 'call c');
    await clock.advance(20_000);
    alerts.raise('deadLetter', 'call d');
    await clock.advance(38_999);
    expect(posts.map((p) => p.at)).toEqual([0]);
    await clock.advance(1);
    expect(posts.map((p) => p.at)).toEqual([0, 60_000]);
    expect(descriptions(posts)).toEqual(['call a', 'call d\n\n…and 2 more dead letters']);
    expect(posts[1]?.body.embeds[0]?.timestamp).toBe(new Date(21_000).toISOString());
    // Nothing else waits: the clock goes idle.
    await clock.advance(600_000);
    expect(posts).toHaveLength(2);
    expect(clock.pending()).toBe(0);
  });

  it('does not hold a lone raise after a quiet minute', async () => {
    const { clock, posts, alerts } = setup();
    alerts.raise('queueHalf', 'queue 50/100');
    await clock.advance(90_000);
    alerts.raise('queueHalf', 'queue 51/100');
    await clock.advance(0);
    expect(posts.map((p) => p.at)).toEqual([0, 90_000]);
    expect(descriptions(posts)[1]).toBe('queue 51/100');
  });

  it('keeps kinds apart and posts one at a time, oldest first', async () => {
    const { clock, posts, alerts, maxInFlight } = setup();
    alerts.raise('outageStarted', 'CAD unreachable');
    alerts.raise('deadLetter', 'call a');
    alerts.raise('outageEnded', 'CAD back');
    alerts.raise('queueHalf', 'queue 50/100');
    alerts.raise('keyRefused', 'HTTP 401');
    alerts.raise('deadLetter', 'call b');
    await clock.advance(0);
    // Each post settles before the next starts: give the chain its promise turns.
    for (let i = 0; i < 10; i++) await flush();
    expect(posts.map((p) => p.body.embeds[0]?.title)).toEqual([
      'Sonoran CAD outage started',
      'A 911 call became a dead letter',
      'Sonoran CAD outage ended',
      'The 911 call queue is past half full',
      'Sonoran CAD refused the API key',
    ]);
    expect(maxInFlight()).toBe(1);
    // 'call b' came while 'call a' still waited its turn: one message, not two.
    expect(descriptions(posts)[1]).toBe('call b\n\n…and 1 more dead letter');
    await clock.advance(60_000);
    expect(posts).toHaveLength(5);
  });

  it('waits X-RateLimit-Reset-After once X-RateLimit-Remaining is 0', async () => {
    const { clock, posts, replies, alerts } = setup();
    replies.push({
      status: 204,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '1.5' },
    });
    alerts.raise('outageStarted', 'a');
    alerts.raise('deadLetter', 'b');
    await clock.advance(1_499);
    expect(posts).toHaveLength(1);
    await clock.advance(1);
    expect(posts.map((p) => p.at)).toEqual([0, 1_500]);
  });

  it('does not wait while X-RateLimit-Remaining is above 0', async () => {
    const { clock, posts, replies, alerts } = setup();
    replies.push({
      status: 204,
      headers: { 'x-ratelimit-remaining': '3', 'x-ratelimit-reset-after': '1.5' },
    });
    alerts.raise('outageStarted', 'a');
    alerts.raise('deadLetter', 'b');
    await clock.advance(0);
    expect(posts.map((p) => p.at)).toEqual([0, 0]);
  });
});

describe('staff alerts: failures', () => {
  it("honours a 429's retry_after (seconds, float) and resends the same message", async () => {
    const { clock, posts, replies, alerts, lines } = setup();
    replies.push({
      status: 429,
      body: { message: 'You are being rate limited.', retry_after: 2.25, global: false },
    });
    alerts.raise('deadLetter', 'call a');
    alerts.raise('outageStarted', 'down');
    await clock.advance(2_249);
    expect(posts).toHaveLength(1);
    await clock.advance(1);
    expect(posts.map((p) => p.at)).toEqual([0, 2_250, 2_250]);
    // The held message is older, so it goes first.
    expect(descriptions(posts)).toEqual(['call a', 'call a', 'down']);
    expect(lines).toEqual([]);
  });

  it('takes the longer of retry_after and Retry-After', async () => {
    const { clock, posts, replies, alerts } = setup();
    replies.push({
      status: 429,
      headers: { 'retry-after': '3' },
      body: { message: 'You are being rate limited.', retry_after: 0.4, global: false },
    });
    alerts.raise('deadLetter', 'call a');
    await clock.advance(2_999);
    expect(posts).toHaveLength(1);
    await clock.advance(1);
    expect(posts).toHaveLength(2);
  });

  it('folds raises made while a message is held into that message', async () => {
    const { clock, posts, replies, alerts } = setup();
    replies.push({ status: 503 });
    alerts.raise('deadLetter', 'call a');
    await clock.advance(500);
    alerts.raise('deadLetter', 'call b');
    await clock.advance(1_500);
    expect(descriptions(posts)).toEqual(['call a', 'call b\n\n…and 1 more dead letter']);
  });

  it('retries network errors, timeouts and 5xx with backoff, then gives up with one warning', async () => {
    const { clock, posts, replies, alerts, lines } = setup({ timeoutMs: 1_000 });
    replies.push('network', 'hang', { status: 500 }, { status: 502 }, { status: 503 });
    alerts.raise('deadLetter', 'call a');
    await clock.advance(600_000);
    // 2 s, 6 s (+1 s timeout), 18 s, 54 s.
    expect(posts.map((p) => p.at)).toEqual([0, 2_000, 9_000, 27_000, 81_000]);
    expect(lines).toEqual([
      'staff alert "A 911 call became a dead letter" dropped after 5 tries (last: HTTP 503); further dropped staff alerts are not reported until one gets through',
    ]);
    // The next spell of failures stays quiet; a success reopens the reports.
    replies.push(...Array(5).fill({ status: 500 }), { status: 204 }, ...Array(5).fill('network'));
    alerts.raise('outageStarted', 'x');
    await clock.advance(600_000);
    alerts.raise('outageEnded', 'y');
    await clock.advance(600_000);
    alerts.raise('queueHalf', 'z');
    await clock.advance(600_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^staff alert "The 911 call queue is past half full" dropped after 5/);
  });

  it('drops a message the webhook refuses (400) with a warning naming Discord\u2019s reason', async () => {
    const { clock, posts, replies, alerts, lines } = setup();
    replies.push({ status: 400, body: { message: 'Invalid Form Body', code: 50035 } });
    alerts.raise('deadLetter', 'call a');
    alerts.raise('queueHalf', 'q');
    await clock.advance(120_000);
    expect(posts).toHaveLength(2);
    expect(lines).toEqual([
      'staff alert "A 911 call became a dead letter" was refused by the staff webhook (HTTP 400: Invalid Form Body (code 50035)) and is dropped',
    ]);
  });

  it.each([404, 401])('stops for good after a %i, with one warning', async (status) => {
    const { clock, posts, replies, alerts, lines } = setup();
    replies.push({ status, body: { message: 'Unknown Webhook', code: 10015 } });
    alerts.raise('deadLetter', 'call a');
    alerts.raise('outageStarted', 'down');
    await clock.advance(0);
    for (let i = 0; i < 10; i++) alerts.raise('deadLetter', `call ${i}`);
    await clock.advance(600_000);
    expect(posts).toHaveLength(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^the staff webhook refused us \\(HTTP ${status}: Unknown Webhook \\(code 10015\\)\\)`,
      ),
    );
    expect(lines[0]).toContain('until the resource restarts');
    expect(clock.pending()).toBe(0);
  });

  it('never throws into the caller, whatever breaks', async () => {
    const clock = new FakeClock();
    const throwingLog: Logger = {
      info: () => {
        throw new Error('console gone');
      },
      warn: () => {
        throw new Error('console gone');
      },
      error: () => {
        throw new Error('console gone');
      },
    };
    const alerts = createStaffAlerts({
      url: URL_,
      post: () => {
        throw new Error('sync throw');
      },
      now: clock.now,
      timers: clock.timers_,
      log: throwingLog,
    });
    expect(() => alerts.raise('deadLetter', 'x')).not.toThrow();
    expect(() => alerts.raise('nope' as never, 'x')).not.toThrow();
    expect(() => alerts.raise('queueHalf', undefined as never)).not.toThrow();
    await expect(clock.advance(600_000)).resolves.toBeUndefined();
    expect(() => alerts.stop()).not.toThrow();

    const broken = createStaffAlerts({
      url: URL_,
      post: async () => ({ status: 204, headers: new Headers(), text: async () => '' }),
      now: () => Number.NaN,
      timers: {
        set: () => {
          throw new Error('no timers');
        },
        clear: () => {},
      },
      log: throwingLog,
    });
    expect(() => broken.raise('deadLetter', 'x')).not.toThrow();
  });

  it('gives up waiting on a post that ignores its abort signal', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const alerts = createStaffAlerts({
      url: URL_,
      // Never settles, whatever the signal says.
      post: () => {
        calls++;
        return calls === 1
          ? new Promise<StaffResponse>(() => {})
          : Promise.resolve({ status: 204, headers: new Headers(), text: async () => '' });
      },
      now: clock.now,
      timers: clock.timers_,
      log: { info: () => {}, warn: () => {}, error: () => {} },
      timeoutMs: 1_000,
    });
    alerts.raise('deadLetter', 'a');
    await clock.advance(10_000);
    // Timed out at 1 s, tried again after the 2 s backoff.
    expect(calls).toBe(2);
  });

  it('stop() aborts the post in flight and sends nothing more', async () => {
    const { clock, posts, replies, alerts } = setup();
    replies.push('hang');
    alerts.raise('deadLetter', 'a');
    await clock.advance(0);
    alerts.stop();
    alerts.raise('outageStarted', 'b');
    await clock.advance(600_000);
    expect(posts).toHaveLength(1);
    expect(clock.pending()).toBe(0);
  });

  it('never puts the URL or its token in a log line', async () => {
    const { clock, replies, alerts, lines } = setup();
    replies.push(
      ...Array(5).fill('network'),
      { status: 400, body: { message: `bad request to ${URL_}`, code: 0 } },
      { status: 404, body: { message: `Unknown Webhook ${TOKEN}`, code: 10015 } },
    );
    alerts.raise('deadLetter', 'a');
    await clock.advance(600_000);
    alerts.raise('outageStarted', 'b');
    await clock.advance(600_000);
    alerts.raise('outageEnded', 'c');
    await clock.advance(600_000);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain('123456789012345678');
    }
    expect(lines[0]).toContain('[redacted]');
  });
});

describe('staffWebhookUrl', () => {
  const good = 'https://discord.com/api/webhooks/1/abc';
  it('takes the convar first, the config when the convar is empty, and nothing quietly', () => {
    expect(staffWebhookUrl(good, 'https://relay.example/hook')).toEqual({ url: good });
    expect(staffWebhookUrl('  ', good)).toEqual({ url: good });
    expect(staffWebhookUrl('', null)).toEqual({ url: null });
    expect(staffWebhookUrl('', '')).toEqual({ url: null });
    expect(staffWebhookUrl('', 'http://127.0.0.1:8080/relay')).toEqual({
      url: 'http://127.0.0.1:8080/relay',
    });
  });

  it.each([
    ['ftp://discord.com/api/webhooks/1/abc', 'is not an http:// or https:// URL'],
    ['discord.com/api/webhooks/1/abc', 'is not an http:// or https:// URL'],
    ['https://user:s3cretpass@relay.example/hook', 'has a user name or password in it'],
  ])('turns alerts off with one warning for %s, never printing it', (value, problem) => {
    const fromConvar = staffWebhookUrl(value, good);
    expect(fromConvar.url).toBeNull();
    expect(fromConvar.warning).toContain(`the convar sonoran911_webhook ${problem}`);
    expect(fromConvar.warning).not.toContain(value);
    expect(fromConvar.warning).not.toContain('s3cretpass');
    const fromConfig = staffWebhookUrl('', value);
    expect(fromConfig.warning).toContain(`staffWebhook in config.json ${problem}`);
  });
});

describe('classifyWebhook', () => {
  const answer = (status: number, headers: Record<string, string> = {}, body = '') => ({
    status,
    header: (n: string) => headers[n] ?? null,
    body,
  });
  it('reads every Discord wait, and only from an empty bucket', () => {
    expect(classifyWebhook(answer(204))).toMatchObject({ type: 'sent', holdMs: 0 });
    expect(
      classifyWebhook(
        answer(204, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '0.123' }),
      ),
    ).toMatchObject({ type: 'sent', holdMs: 123 });
    expect(classifyWebhook(answer(429))).toMatchObject({ type: 'rate-limited', holdMs: 1_000 });
    expect(classifyWebhook(answer(429, { 'retry-after': 'soon' }))).toMatchObject({
      holdMs: 1_000,
    });
    expect(classifyWebhook(answer(503, { 'retry-after': '7' }))).toMatchObject({
      type: 'retry',
      holdMs: 7_000,
    });
    expect(classifyWebhook(answer(302))).toMatchObject({ type: 'rejected' });
    expect(classifyWebhook(answer(403))).toMatchObject({ type: 'unauthorized' });
  });

  it('caps a hold, so one answer cannot silence alerts for a day', () => {
    const pacing = new StaffPacing();
    pacing.raise('deadLetter', 'a', 0);
    const first = pacing.next(0);
    if (!first || !('send' in first)) throw new Error('expected a message');
    pacing.settle(first.send, { type: 'rate-limited', reason: '', holdMs: 86_400_000 }, 0);
    expect(pacing.next(0)).toEqual({ waitMs: 600_000 });
  });
});
