// Self-tests of the local Sonoran CAD stand-in, driven with Node's own fetch.
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalCad, type LocalCadOptions, startLocalCad } from '../sandbox/cad/index';

const open: LocalCad[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function start(opts: LocalCadOptions = {}): Promise<LocalCad> {
  const cad = await startLocalCad(opts);
  open.push(cad);
  return cad;
}

const validBody = {
  origin: 0,
  status: 1,
  priority: 1,
  block: '100',
  address: 'Mission Row',
  postal: '9001',
  title: 'Armed Robbery',
  code: '211',
  description: 'Clerk reports a firearm.',
  notes: [],
  communityUserIds: ['player-1234'],
  metaData: { source: 'integration', x: '425.1', y: '-979.2' },
};

interface PostOptions {
  auth?: string | null;
  serverId?: string | number;
  body?: unknown;
  raw?: string;
  contentType?: string;
  method?: string;
  path?: string;
  signal?: AbortSignal;
}

async function post(cad: LocalCad, o: PostOptions = {}) {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': o.contentType ?? 'application/json',
  };
  const auth = o.auth === undefined ? 'Bearer test-key' : o.auth;
  if (auth !== null) headers.authorization = auth;
  const path = o.path ?? `/v2/emergency/servers/${o.serverId ?? 1}/dispatch-calls`;
  const method = o.method ?? 'POST';
  const res = await fetch(`${cad.url}${path}`, {
    method,
    headers,
    ...(method === 'GET' ? {} : { body: o.raw ?? JSON.stringify(o.body ?? validBody) }),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    type: res.headers.get('content-type'),
    json: text ? (JSON.parse(text) as Record<string, unknown>) : null,
  };
}

describe('contract', () => {
  it('creates a call: 201 with callId and the stored body', async () => {
    const cad = await start();
    const first = await post(cad);
    const second = await post(cad);
    expect(first.status).toBe(201);
    expect(first.type).toBe('application/json');
    expect(first.json).toMatchObject({
      ...validBody,
      callId: 1001,
      primary: 0,
      trackPrimary: false,
      idents: [],
    });
    expect(typeof first.json?.updated).toBe('string');
    expect(second.json?.callId).toBe(1002);
    expect(first.headers.get('x-kong-request-id')).toBeTruthy();
    expect(first.headers.get('x-kong-request-id')).not.toBe(
      second.headers.get('x-kong-request-id'),
    );
    expect(cad.calls.map((c) => c.callId)).toEqual([1001, 1002]);
    expect(cad.calls[0]?.body).toEqual(validBody);
    expect(cad.calls[0]?.headers.authorization).toBe('Bearer test-key');
  });

  it('can answer 200 instead', async () => {
    const cad = await start({ successStatus: 200 });
    expect((await post(cad)).status).toBe(200);
  });

  it('answers 401 problem+json for missing, non-Bearer and unknown keys', async () => {
    const cad = await start();
    const cases: [string | null, string][] = [
      [null, 'Missing Authorization header'],
      ['Basic dGVzdDp0ZXN0', 'Authorization scheme must be Bearer'],
      ['Bearer wrong-key', 'Invalid API key'],
    ];
    for (const [auth, detail] of cases) {
      const r = await post(cad, { auth });
      expect(r.status).toBe(401);
      expect(r.type).toBe('application/problem+json');
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(r.json).toMatchObject({ title: 'Unauthorized', status: 401, detail });
      expect(Object.keys(r.json ?? {}).sort()).toEqual([
        'detail',
        'instance',
        'status',
        'title',
        'traceId',
        'type',
      ]);
    }
    expect(cad.calls).toEqual([]);
    expect(cad.requests.map((r) => r.key)).toEqual([null, null, 'wrong-key']);
  });

  it('answers 404 for unknown servers and routes, 405 for other methods', async () => {
    const cad = await start({ keys: { k: { serverIds: [1, 7] } } });
    expect((await post(cad, { auth: 'Bearer k', serverId: 7 })).status).toBe(201);
    const unknown = await post(cad, { auth: 'Bearer k', serverId: 2 });
    expect(unknown.status).toBe(404);
    expect(unknown.json?.detail).toBe('Server 2 is not configured for this community');
    expect((await post(cad, { auth: 'Bearer k', serverId: 'abc' })).status).toBe(404);
    expect((await post(cad, { auth: 'Bearer k', path: '/v2/emergency/calls' })).status).toBe(404);
    const get = await post(cad, { auth: 'Bearer k', method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('answers 415 for a non-JSON content type and 400 for malformed JSON', async () => {
    const cad = await start();
    expect((await post(cad, { contentType: 'text/plain' })).status).toBe(415);
    const bad = await post(cad, { raw: '{"origin": 0,' });
    expect(bad.status).toBe(400);
    expect(bad.json?.detail).toBe('Request body is not valid JSON');
    expect((await post(cad, { contentType: 'application/json; charset=utf-8' })).status).toBe(201);
  });

  it('lists every body problem with its path in the 400 detail', async () => {
    const cad = await start();
    const { postal: _postal, ...withoutPostal } = validBody;
    const r = await post(cad, {
      body: {
        ...withoutPostal,
        origin: 3,
        status: 1.5,
        title: '',
        notes: ['text'],
        communityUserIds: [],
        accounts: ['not-a-uuid'],
        metaData: { x: 425.1 },
        deleteAfterMinutes: 0,
        extra: true,
      },
    });
    expect(r.status).toBe(400);
    expect(r.type).toBe('application/problem+json');
    const detail = String(r.json?.detail);
    for (const path of [
      'origin:',
      'status:',
      'postal:',
      'title:',
      'notes[0]:',
      'accounts[0]:',
      'metaData.x:',
      'deleteAfterMinutes:',
      'extra: unknown property',
    ]) {
      expect(detail).toContain(path);
    }
    expect(r.json?.errors).toHaveLength(9);
    expect(cad.calls).toEqual([]);
  });

  it('requires at least one identifier target', async () => {
    const cad = await start();
    const none = await post(cad, { body: { ...validBody, communityUserIds: [] } });
    expect(none.status).toBe(400);
    expect(String(none.json?.detail)).toMatch(/^communityUserIds: at least one identifier target/);
    const { communityUserIds: _ids, ...noIds } = validBody;
    const byAccount = await post(cad, {
      body: { ...noIds, accounts: ['3f1c1a56-8f0e-4a4e-9a43-2f6c9f0b8c1d'] },
    });
    expect(byAccount.status).toBe(201);
  });
});

describe('rate limit', () => {
  it('refuses request limit+1 within the window and does not count refusals', async () => {
    let t = 1_000_000;
    const cad = await start({ now: () => t });
    for (let i = 0; i < 20; i++) {
      expect((await post(cad)).status).toBe(201);
      t += 1000;
    }
    const refused = await post(cad);
    expect(refused.status).toBe(429);
    expect(refused.type).toBe('application/json');
    expect(refused.json).toEqual({
      message: 'API rate limit exceeded',
      request_id: refused.headers.get('x-kong-request-id'),
    });
    // The first request (t0) leaves the window at t0 + 60 s; 20 s have passed.
    expect(refused.headers.get('retry-after')).toBe('40');
    t = 1_000_000 + 59_999;
    expect((await post(cad)).status).toBe(429);
    t = 1_000_000 + 60_000;
    expect((await post(cad)).status).toBe(201);
    expect((await post(cad)).status).toBe(429);
    expect(cad.count429).toBe(3);
    expect(cad.maxInAnyWindow('test-key')).toBe(23);
  });

  it('counts per key', async () => {
    const cad = await start({
      keys: { a: { serverIds: [1] }, b: { serverIds: [1] } },
      limit: { requests: 1, windowMs: 60_000 },
    });
    expect((await post(cad, { auth: 'Bearer a' })).status).toBe(201);
    expect((await post(cad, { auth: 'Bearer b' })).status).toBe(201);
    expect((await post(cad, { auth: 'Bearer a' })).status).toBe(429);
  });

  it('charges spend() to the key, as another user of it would', async () => {
    const cad = await start({ limit: { requests: 3, windowMs: 60_000 } });
    cad.spend('test-key', 2);
    expect((await post(cad)).status).toBe(201);
    expect((await post(cad)).status).toBe(429);
    expect(cad.maxInAnyWindow('test-key')).toBe(4);
  });

  it.each([
    ['seconds', { 'retry-after': '50' }],
    ['date', { 'retry-after': 'Thu, 01 Jan 2026 00:01:01 GMT' }],
    ['reset', { 'ratelimit-reset': '50', 'ratelimit-limit': '1', 'ratelimit-remaining': '0' }],
    ['x-reset', { 'x-ratelimit-reset': String(Date.UTC(2026, 0, 1, 0, 1, 1) / 1000) }],
    ['none', {}],
  ] as const)('sends the %s retry hint on 429', async (mode, expected) => {
    let t = Date.UTC(2026, 0, 1, 0, 0, 0, 500);
    const cad = await start({
      now: () => t,
      retryAfter: mode,
      limit: { requests: 1, windowMs: 60_000 },
    });
    await post(cad);
    t += 10_000;
    const r = await post(cad);
    expect(r.status).toBe(429);
    const hints = [
      'retry-after',
      'ratelimit-reset',
      'ratelimit-limit',
      'ratelimit-remaining',
      'x-ratelimit-reset',
    ];
    const got = Object.fromEntries(
      hints.flatMap((h) => (r.headers.get(h) === null ? [] : [[h, r.headers.get(h)]])),
    );
    expect(got).toMatchObject(expected);
    if (mode === 'none') expect(got).toEqual({});
  });
});

describe('faults', () => {
  it('answers injected statuses, then recovers; faulted requests still count', async () => {
    const cad = await start({ limit: { requests: 3, windowMs: 60_000 } });
    cad.failNext(1, { status: 503 });
    cad.failNext(1, { status: 500, body: { oops: true }, headers: { 'x-test': '1' } });
    const a = await post(cad);
    expect(a.status).toBe(503);
    expect(a.type).toBe('application/problem+json');
    const b = await post(cad);
    expect([b.status, b.json, b.headers.get('x-test')]).toEqual([500, { oops: true }, '1']);
    expect((await post(cad)).status).toBe(201);
    expect((await post(cad)).status).toBe(429);
    expect(cad.requests.map((r) => r.injected)).toEqual([true, true, false, false]);
  });

  it('gives an injected 429 the rate-limit body and retry hint', async () => {
    const cad = await start();
    cad.failNext(1, { status: 429 });
    const r = await post(cad);
    expect(r.status).toBe(429);
    expect(r.json?.message).toBe('API rate limit exceeded');
    expect(r.headers.get('retry-after')).toBe('60');
    expect(cad.count429).toBe(1);
  });

  it('resets the connection without an answer', async () => {
    const cad = await start();
    cad.failNext(1, 'reset');
    await expect(post(cad)).rejects.toThrow(TypeError);
    expect(cad.requests[0]).toMatchObject({ outcome: 'reset', status: 0 });
    expect((await post(cad)).status).toBe(201);
  });

  it('hangs until the client gives up', async () => {
    const cad = await start();
    cad.failNext(1, 'hang');
    await expect(post(cad, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(cad.requests[0]?.outcome).toBe('hang');
    expect((await post(cad)).status).toBe(201);
  });

  it('keeps an outage until cleared', async () => {
    const cad = await start();
    cad.setOutage({ status: 502 });
    expect((await post(cad)).status).toBe(502);
    expect((await post(cad)).status).toBe(502);
    cad.setOutage(null);
    expect((await post(cad)).status).toBe(201);
  });

  it('delays answers by the set latency', async () => {
    const cad = await start();
    cad.setLatencyMs(40);
    const t0 = performance.now();
    expect((await post(cad)).status).toBe(201);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(35);
  });

  it('replays the same random faults for the same seed', async () => {
    const run = async () => {
      const cad = await start({ limit: { requests: 1000, windowMs: 60_000 } });
      cad.setRandomFaults({ rate5xx: 0.3, rateReset: 0.2, seed: 42 });
      const out: (number | string)[] = [];
      for (let i = 0; i < 12; i++)
        out.push(
          await post(cad).then(
            (r) => r.status,
            () => 'reset',
          ),
        );
      return out;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first).toContain(201);
    expect(first.some((s) => s !== 201)).toBe(true);
  });
});
