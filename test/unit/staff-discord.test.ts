// Staff alerts against the local Discord webhook stand-in, over real HTTP with fetch. Time is
// virtual (a FakeClock that both sides read): the clock only moves while no request is in
// flight, so a minute of pacing takes milliseconds and a slow test machine cannot time out.
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalDiscord, startLocalDiscord } from '../../sandbox/discord';
import { FakeClock } from '../../sandbox/support/clock';
import type { Logger } from '../../server/log';
import {
  createStaffAlerts,
  fetchPost,
  type StaffEvent,
  type StaffResponse,
} from '../../server/staff';
import { STAFF_EVENTS } from '../../shared/staff-pacing';

const open: LocalDiscord[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

const realSleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function setup() {
  const clock = new FakeClock();
  const hook = await startLocalDiscord({ now: clock.now });
  open.push(hook);
  const lines: string[] = [];
  const log: Logger = {
    info: (m) => lines.push(m),
    warn: (m) => lines.push(m),
    error: (m) => lines.push(m),
  };
  let inFlight = 0;
  // The production post; the body is read here so "in flight" covers the whole exchange.
  const post = async (url: string, body: string, signal: AbortSignal): Promise<StaffResponse> => {
    inFlight++;
    try {
      const res = await fetchPost(url, body, signal);
      const text = await res.text();
      return { status: res.status, headers: res.headers, text: async () => text };
    } finally {
      inFlight--;
    }
  };
  const alerts = createStaffAlerts({
    url: hook.url,
    post,
    now: clock.now,
    timers: clock.timers_,
    log,
  });
  /**
   * Runs virtual time to `until`, pausing it while a request is out. One still out after a
   * real second is taken for hung, and the clock moves on to its next timer: the timeout.
   */
  const drive = async (until: number): Promise<void> => {
    for (;;) {
      await clock.run(until, () => inFlight > 0);
      if (inFlight === 0) return;
      for (let waited = 0; inFlight > 0 && waited < 1_000; waited += 5) await realSleep(5);
      if (inFlight > 0) {
        const fired = clock.fired;
        await clock.run(until, () => clock.fired > fired);
      }
    }
  };
  return { clock, hook, alerts, lines, drive };
}

/** How many raises a posted message stands for: 1, plus its "and N more". */
function raisesIn(message: { body: Record<string, unknown> }): number {
  const embeds = message.body.embeds as { description: string }[];
  const more = /…and (\d+) more /.exec(embeds[0]?.description ?? '');
  return 1 + Number(more?.[1] ?? 0);
}

const titleKinds: Record<string, StaffEvent> = {
  'Sonoran CAD refused the API key': 'keyRefused',
  'Sonoran CAD outage started': 'outageStarted',
  'Sonoran CAD outage ended': 'outageEnded',
  'A 911 call became a dead letter': 'deadLetter',
  'The 911 call queue is past half full': 'queueHalf',
};
const kindOf = (message: { body: Record<string, unknown> }) =>
  titleKinds[(message.body.embeds as { title: string }[])[0]?.title ?? ''];

function burst(alerts: { raise(kind: StaffEvent, detail: string): void }): void {
  for (let i = 0; i < 20; i++) {
    alerts.raise(STAFF_EVENTS[i % STAFF_EVENTS.length] as StaffEvent, `event ${i}`);
  }
}

describe('staff alerts against the Discord stand-in', () => {
  it('a burst of 20 raises across kinds draws no 429, and every kind and raise arrives', async () => {
    const { hook, alerts, lines, drive } = await setup();
    // Another sender on the same webhook already used 3 of the 5 requests in this window.
    hook.spend(3);
    burst(alerts);
    await drive(180_000);
    expect(hook.count429).toBe(0);
    expect(hook.maxInAnyWindow()).toBeLessThanOrEqual(5);
    expect(new Set(hook.messages.map(kindOf))).toEqual(new Set(STAFF_EVENTS));
    // Two in the open window, three when it reset. Only the first kind was posted before its
    // later raises came; the other kinds' raises folded into their waiting message, so one
    // more message a minute later covers the rest.
    expect(hook.messages.map((m) => m.at)).toEqual([0, 0, 2_000, 2_000, 2_000, 60_000]);
    expect(hook.messages.reduce((n, m) => n + raisesIn(m), 0)).toBe(20);
    expect(lines).toEqual([]);
    alerts.stop();
  });

  it('draws only the one 429 it could not foresee when another sender emptied the bucket', async () => {
    const { hook, alerts, lines, drive } = await setup();
    hook.spend(5);
    burst(alerts);
    await drive(180_000);
    expect(hook.count429).toBe(1);
    expect(hook.requests[0]?.status).toBe(429);
    // retry_after said 2 s: nothing more before then.
    expect(hook.requests[1]?.at).toBe(2_000);
    expect(new Set(hook.messages.map(kindOf))).toEqual(new Set(STAFF_EVENTS));
    expect(hook.messages.reduce((n, m) => n + raisesIn(m), 0)).toBe(20);
    expect(lines).toEqual([]);
    alerts.stop();
  });

  it('retries a 500 and a hung request, then delivers', async () => {
    const { hook, alerts, lines, drive } = await setup();
    hook.failNext(1, { status: 500 });
    hook.failNext(1, 'hang');
    alerts.raise('outageStarted', 'CAD unreachable');
    await drive(60_000);
    expect(hook.requests.map((r) => [r.at, r.status])).toEqual([
      [0, 500],
      [2_000, 0],
      // 10 s timeout, then the second backoff (6 s).
      [18_000, 204],
    ]);
    expect(hook.messages).toHaveLength(1);
    expect(lines).toEqual([]);
  });

  it('stops after the webhook is deleted, with one warning that does not quote the URL', async () => {
    const { hook, alerts, lines, drive } = await setup();
    alerts.raise('deadLetter', 'call a');
    await drive(1_000);
    hook.deleteWebhook();
    alerts.raise('outageStarted', 'down');
    alerts.raise('keyRefused', 'HTTP 401');
    await drive(600_000);
    expect(hook.requests.map((r) => r.status)).toEqual([204, 404]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^the staff webhook refused us \(HTTP 404: Unknown Webhook \(code 10015\)\)/,
    );
    expect(lines[0]).not.toContain(hook.token);
    expect(lines[0]).not.toContain(hook.id);
  });
});

describe('the Discord stand-in', () => {
  async function start() {
    const hook = await startLocalDiscord();
    open.push(hook);
    const send = (body: unknown, query = '') =>
      fetch(`${hook.url}${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    return { hook, send };
  }

  it('answers 204, or 200 with the message for ?wait=true, with the rate headers', async () => {
    const { hook, send } = await start();
    const plain = await send({ content: 'hi' });
    expect(plain.status).toBe(204);
    expect(plain.headers.get('x-ratelimit-limit')).toBe('5');
    expect(plain.headers.get('x-ratelimit-remaining')).toBe('4');
    expect(Number(plain.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(0);
    const waited = await send({ embeds: [{ title: 't', description: 'd' }] }, '?wait=true');
    expect(waited.status).toBe(200);
    expect(await waited.json()).toMatchObject({ webhook_id: hook.id, embeds: [{ title: 't' }] });
    expect(hook.messages.map((m) => m.wait)).toEqual([false, true]);
  });

  it('refuses what Discord refuses, with Discord\u2019s errors', async () => {
    const { hook, send } = await start();
    const empty = await send({ username: 'x' });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({ message: 'Cannot send an empty message', code: 50006 });
    const long = await send({
      content: 'x'.repeat(2001),
      embeds: [{ title: 't'.repeat(257), description: 'd'.repeat(4097) }],
    });
    expect(long.status).toBe(400);
    expect(await long.json()).toEqual({
      code: 50035,
      message: 'Invalid Form Body',
      errors: {
        content: {
          _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }],
        },
        embeds: {
          0: {
            title: {
              _errors: [
                { code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 256 or fewer in length.' },
              ],
            },
            description: {
              _errors: [
                { code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 4096 or fewer in length.' },
              ],
            },
          },
        },
      },
    });
    expect(hook.messages).toHaveLength(0);
  });

  it('allows 5 per window, then 429s with retry_after in seconds', async () => {
    const { hook, send } = await start();
    for (let i = 0; i < 5; i++) expect((await send({ content: `m${i}` })).status).toBe(204);
    const limited = await send({ content: 'm5' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await limited.json()) as { retry_after: number; global: boolean };
    expect(body.global).toBe(false);
    expect(body.retry_after).toBeGreaterThan(0);
    expect(body.retry_after).toBeLessThanOrEqual(2);
    expect(hook.count429).toBe(1);
  });

  it('fails on demand and refuses a wrong token', async () => {
    const { hook, send } = await start();
    hook.failNext(1, { status: 500 });
    expect((await send({ content: 'a' })).status).toBe(500);
    const wrong = await fetch(hook.url.replace(hook.token, 'nope'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"content":"a"}',
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ message: 'Invalid Webhook Token', code: 50027 });
  });
});
