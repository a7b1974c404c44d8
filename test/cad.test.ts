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

const validNote = {
  note: 'Suspect vehicle fleeing northbound',
  noteType: 'text',
  label: 'Integration',
};

function notePath(callId: number | string, serverId: number | string = 1): string {
  return `/v2/emergency/servers/${serverId}/dispatch-calls/${callId}/notes`;
}

async function postNote(cad: LocalCad, callId: number | string, o: PostOptions = {}) {
  return post(cad, {
    ...o,
    path: o.path ?? notePath(callId, o.serverId),
    body: o.body ?? validNote,
  });
}

describe('notes', () => {
  it('adds a note to a created call: 200 { callId, note }, stored in cad.notes', async () => {
    let t = 5_000;
    const cad = await start({ now: () => t });
    expect((await post(cad)).json?.callId).toBe(1001);
    t = 6_000;
    const r = await postNote(cad, 1001);
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    expect(r.json).toEqual({ callId: 1001, note: validNote.note });
    expect(r.headers.get('x-kong-request-id')).toBeTruthy();
    expect(cad.notes).toEqual([
      { callId: 1001, body: validNote, receivedAt: 6_000, headers: expect.any(Object) },
    ]);
    expect(cad.notes[0]?.headers.authorization).toBe('Bearer test-key');
    expect(cad.requests.map((q) => [q.route, q.status, q.callId])).toEqual([
      ['calls', 201, 1001],
      ['notes', 200, undefined],
    ]);
    // A trailing slash is the same route, as for calls.
    expect((await postNote(cad, 1001, { path: `${notePath(1001)}/` })).status).toBe(200);
    expect(cad.notes).toHaveLength(2);
  });

  it('can answer 201 instead', async () => {
    const cad = await start({ noteSuccessStatus: 201 });
    await post(cad);
    expect((await postNote(cad, 1001)).status).toBe(201);
  });

  it('lists every note body problem in a 400 problem+json', async () => {
    const cad = await start();
    await post(cad);
    const r = await postNote(cad, 1001, { body: { noteType: 7, label: '', extra: 1 } });
    expect(r.status).toBe(400);
    expect(r.type).toBe('application/problem+json');
    const detail = String(r.json?.detail);
    for (const part of ['note:', 'noteType:', 'label:', 'extra: unknown property']) {
      expect(detail).toContain(part);
    }
    expect(r.json?.errors).toHaveLength(4);
    const empty = await postNote(cad, 1001, { body: { ...validNote, note: '' } });
    expect(empty.json?.errors).toEqual([{ path: 'note', message: expect.any(String) }]);
    for (const body of [[validNote], 'text', null]) {
      const bad = await postNote(cad, 1001, { raw: JSON.stringify(body) });
      expect([bad.status, bad.type]).toEqual([400, 'application/problem+json']);
    }
    expect((await postNote(cad, 1001, { raw: '{"note":' })).json?.detail).toBe(
      'Request body is not valid JSON',
    );
    expect((await postNote(cad, 1001, { contentType: 'text/plain' })).status).toBe(415);
    // Validation comes before the call lookup: a bad body to an unknown call is a 400.
    expect((await postNote(cad, 9999, { body: {} })).status).toBe(400);
    expect(cad.notes).toEqual([]);
  });

  it('answers 404 for an unknown call, a call on another server and a closed call', async () => {
    const cad = await start({ keys: { k: { serverIds: [1, 7] } } });
    const auth = 'Bearer k';
    await post(cad, { auth, serverId: 7 }); // 1001 on server 7
    await post(cad, { auth }); // 1002 on server 1
    const unknown = await postNote(cad, 9999, { auth });
    expect([unknown.status, unknown.type]).toEqual([404, 'application/problem+json']);
    expect(unknown.json?.detail).toBe('Dispatch call 9999 was not found');
    expect((await postNote(cad, 'abc', { auth })).status).toBe(404);
    expect((await postNote(cad, 1001, { auth })).status).toBe(404);
    expect((await postNote(cad, 1001, { auth, serverId: 7 })).status).toBe(200);
    expect((await postNote(cad, 1002, { auth, serverId: 3 })).json?.detail).toBe(
      'Server 3 is not configured for this community',
    );

    expect((await postNote(cad, 1002, { auth })).status).toBe(200);
    cad.closeCall(1002);
    expect(cad.calls[1]?.closedAt).toEqual(expect.any(Number));
    const closed = await postNote(cad, 1002, { auth });
    expect([closed.status, closed.type]).toEqual([404, 'application/problem+json']);
    expect(closed.json?.detail).toBe('Dispatch call 1002 is closed');
    expect(cad.notes.map((n) => n.callId)).toEqual([1001, 1002]);

    // close(callId) closes the call, not the server; mistakes throw.
    expect(() => cad.closeCall(1002)).toThrow(/already closed/);
    expect(() => cad.closeCall(4242)).toThrow(/no such call/);
    expect((await post(cad, { auth })).status).toBe(201);
    const get = await postNote(cad, 1001, { auth, serverId: 7, method: 'GET' });
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
  });

  it('records attached units without changing any answer', async () => {
    let t = 1_000;
    const cad = await start({ now: () => t });
    await post(cad);
    await post(cad);
    expect(cad.attach(1001)).toEqual({ callId: 1001, unit: 1, at: 1_000 });
    t = 2_000;
    cad.attach(1001, 'player-1234');
    cad.attach(1002);
    expect(cad.calls[0]?.units).toEqual([
      { callId: 1001, unit: 1, at: 1_000 },
      { callId: 1001, unit: 'player-1234', at: 2_000 },
    ]);
    expect(cad.calls[1]?.units.map((u) => u.unit)).toEqual([2]);
    expect((await postNote(cad, 1001)).status).toBe(200);
    expect(() => cad.attach(9999)).toThrow(/no such call/);
    cad.closeCall(1001);
    expect(() => cad.attach(1001, 'late')).toThrow(/already closed/);
  });
});

describe('notes rate limit', () => {
  it('has its own budget, independent of the calls budget', async () => {
    let t = 1_000_000;
    const cad = await start({
      now: () => t,
      limit: { requests: 2, windowMs: 60_000 },
      noteLimit: { requests: 3, windowMs: 60_000 },
    });
    expect((await post(cad)).status).toBe(201);
    expect((await post(cad)).status).toBe(201);
    expect((await post(cad)).status).toBe(429); // calls spent ...
    for (let i = 0; i < 3; i++) {
      expect((await postNote(cad, 1001)).status).toBe(200); // ... notes are not
      t += 1_000;
    }
    const refused = await postNote(cad, 1001);
    expect(refused.status).toBe(429);
    expect(refused.type).toBe('application/json');
    expect(refused.json).toEqual({
      message: 'API rate limit exceeded',
      request_id: refused.headers.get('x-kong-request-id'),
    });
    expect(refused.headers.get('retry-after')).toBe('57');
    expect(cad.notes).toHaveLength(3);
    expect(cad.count429).toBe(2);
    expect(cad.maxInAnyWindow('test-key')).toBe(3);
    expect(cad.maxInAnyWindow('test-key', 'calls')).toBe(3);
    expect(cad.maxInAnyWindow('test-key', 'notes')).toBe(4);
    // The notes window frees up on its own clock; calls stay refused until theirs does.
    t = 1_000_000 + 60_000;
    expect((await postNote(cad, 1001)).status).toBe(200);
    expect((await post(cad)).status).toBe(201);
  });

  it('defaults to 60 per minute, and spend() charges the route it names', async () => {
    const cad = await start({ limit: { requests: 1, windowMs: 60_000 }, retryAfter: 'reset' });
    expect((await post(cad)).status).toBe(201);
    cad.spend('test-key', 59, 'notes');
    cad.spend('test-key', 5); // calls
    expect((await postNote(cad, 1001)).status).toBe(200);
    const refused = await postNote(cad, 1001);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('ratelimit-limit')).toBe('60');
    expect(cad.maxInAnyWindow('test-key', 'notes')).toBe(61);
    expect(cad.maxInAnyWindow('test-key')).toBe(6);
  });
});

describe('faults per route', () => {
  it('applies an unfiltered failNext to whichever route comes next', async () => {
    const cad = await start();
    await post(cad);
    cad.failNext(1, { status: 503 });
    expect((await postNote(cad, 1001)).status).toBe(503);
    expect((await post(cad)).status).toBe(201);
    cad.failNext(1, { status: 502 });
    expect((await post(cad)).status).toBe(502);
    expect((await postNote(cad, 1001)).status).toBe(200);
  });

  it('keeps a route-filtered failNext for its route, in queue order', async () => {
    const cad = await start();
    await post(cad);
    cad.failNext(1, { status: 500 }, 'calls');
    cad.failNext(1, 'reset');
    cad.failNext(2, { status: 504 }, 'notes');
    // The note skips the calls-only entry and takes the unfiltered reset.
    await expect(postNote(cad, 1001)).rejects.toThrow(TypeError);
    expect((await postNote(cad, 1001)).status).toBe(504);
    expect((await post(cad)).status).toBe(500);
    expect((await post(cad)).status).toBe(201);
    expect((await postNote(cad, 1001)).status).toBe(504);
    expect((await postNote(cad, 1001)).status).toBe(200);
    expect(cad.requests.slice(1).map((q) => [q.route, q.injected])).toEqual([
      ['notes', true],
      ['notes', true],
      ['calls', true],
      ['calls', false],
      ['notes', true],
      ['notes', false],
    ]);
  });

  it('sets and clears an outage per route or for both', async () => {
    const cad = await start();
    await post(cad);
    cad.setOutage({ status: 503 }, 'notes');
    expect((await postNote(cad, 1001)).status).toBe(503);
    expect((await post(cad)).status).toBe(201);
    cad.setOutage({ status: 502 });
    expect((await post(cad)).status).toBe(502);
    expect((await postNote(cad, 1001)).status).toBe(502);
    cad.setOutage(null, 'calls');
    expect((await post(cad)).status).toBe(201);
    expect((await postNote(cad, 1001)).status).toBe(502);
    cad.setOutage(null);
    expect((await postNote(cad, 1001)).status).toBe(200);
  });

  it('answers an injected 429 on notes from the notes budget, and cuts note bodies', async () => {
    let t = 1_000_000;
    const cad = await start({ now: () => t, limit: { requests: 1, windowMs: 60_000 } });
    await post(cad);
    t += 20_000;
    // The calls window would say 40 s; the notes window has one request from now: 60 s.
    cad.failNext(1, { status: 429 }, 'notes');
    const r = await postNote(cad, 1001);
    expect([r.status, r.json?.message, r.headers.get('retry-after')]).toEqual([
      429,
      'API rate limit exceeded',
      '60',
    ]);
    cad.failNext(1, 'reset-body', 'notes');
    await expect(postNote(cad, 1001)).rejects.toThrow();
    expect(cad.notes).toHaveLength(1);
    expect(cad.requests.at(-1)).toMatchObject({ route: 'notes', status: 200, bodyCut: 'reset' });
  });
});
