// Answers from the CAD (or whatever stands at api.baseUrl) that are not what they seem:
// redirects, a created call whose body never arrives, a call number nobody should print.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, op, playersReady, RESOURCE, type Rig, said, startRig } from './rig';

let rig: Rig | null = null;
let elsewhere: Server | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
  if (elsewhere) {
    elsewhere.closeAllConnections();
    await new Promise((resolve) => elsewhere!.close(resolve));
    elsewhere = null;
  }
});

/** Another host that takes anything and says "created", as a web server's catch-all might. */
async function startElsewhere() {
  const seen: { method: string; url: string }[] = [];
  elsewhere = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '' });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ callId: 4242 }));
  });
  await new Promise<void>((resolve) => elsewhere!.listen(0, '127.0.0.1', resolve));
  const { port } = elsewhere.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen };
}

const kept = (r: Rig, text: string) =>
  [...r.fx.kvp(RESOURCE).values()].some((v) => v.includes(text));

describe('a redirect is never followed', () => {
  it('keeps a call the CAD address redirects elsewhere, says where in the console and status, and sends it once the redirect is gone', async () => {
    const other = await startElsewhere();
    rig = await startRig({ config: { retry: { backoffBaseMs: 200, backoffMaxMs: 1_000 } } });
    rig.cad.setOutage({ redirect: `${other.url}/moved/here?token=s3cr3t-token`, status: 302 });
    const [p] = await playersReady(rig, 1);
    p!.type('/911 fire at the docks');
    await rig.fx.waitFor(
      () =>
        /paused: until .*redirect to http:\/\/127\.0\.0\.1:\d+\/moved\/here\?…/.test(
          op(rig!, 'sonoran911 status').join('\n'),
        ),
      { what: 'status names the redirect', timeoutMs: 5_000 },
    );
    expect(other.seen).toEqual([]);
    expect(said(p!, /created/)).toBe(false);
    expect(kept(rig, 'fire at the docks')).toBe(true);
    expect(op(rig, 'sonoran911 queue').join('\n')).toMatch(
      /stalled after \d+ attempt\(s\): HTTP 302 redirect to http:\/\/127\.0\.0\.1:\d+\/moved\/here\?…, not followed: check api\.baseUrl/,
    );
    expect(rig.log()).toMatch(/HTTP 302 redirect to .*check api\.baseUrl/);
    expect(rig.log() + [...rig.fx.kvp(RESOURCE).values()].join()).not.toContain('s3cr3t');

    rig.cad.setOutage(null);
    await rig.fx.waitFor(() => said(p!, /Dispatch call #1001 created/), {
      what: 'created at the CAD',
      timeoutMs: 5_000,
    });
    expect(rig.cad.calls).toHaveLength(1);
    expect(other.seen).toEqual([]);
    expect(kept(rig, 'fire at the docks')).toBe(false);
  }, 15_000);

  it('spends no more than the budget on a redirect loop', async () => {
    rig = await startRig({
      config: { rateLimit: { requests: 5, windowSeconds: 60 }, retry: { backoffBaseMs: 100 } },
      cad: { limit: { requests: 1_000, windowMs: 60_000 } },
    });
    const path = '/v2/emergency/servers/1/dispatch-calls';
    rig.cad.setOutage({ redirect: `${rig.cad.url}${path}`, status: 307 });
    const [p] = await playersReady(rig, 1);
    p!.type('/911 loop');
    await rig.fx.waitFor(() => rig!.cad.requests.length >= 5, {
      what: 'the budget spent',
      timeoutMs: 5_000,
    });
    // Long enough for a follower to hop many times more.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(rig.cad.requests).toHaveLength(5);
    expect(rig.cad.maxInAnyWindow(API_KEY)).toBe(5);
    expect(rig.cad.calls).toHaveLength(0);
    expect(op(rig, 'sonoran911 status').join('\n')).toMatch(/queue: 1 waiting \(1 stalled\)/);
  }, 10_000);
});

describe('the status line is the CAD verdict', () => {
  for (const fault of ['stall-body', 'reset-body'] as const) {
    it(`creates a call once when the body of its 201 is lost (${fault})`, async () => {
      rig = await startRig({
        config: { api: { timeoutMs: 1_000 }, retry: { backoffBaseMs: 100, backoffMaxMs: 1_000 } },
      });
      rig.cad.failNext(1, fault);
      const [p] = await playersReady(rig, 1);
      p!.type('/911 body lost');
      await rig.fx.waitFor(() => said(p!, /created/), { what: 'created', timeoutMs: 4_000 });
      expect(said(p!, /^Your dispatch call was created\. Help has been notified\.$/)).toBe(true);
      expect(rig.log()).toMatch(
        /HTTP 201 \(created\) but the rest of its answer was lost .*not sent again, its CAD call number is unknown/,
      );
      expect(rig.log()).toMatch(/created as CAD call #unknown after 1 attempt/);
      // Past the timeout and any backoff: nothing goes out again.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(rig.cad.requests).toHaveLength(1);
      expect(rig.cad.calls).toHaveLength(1);
      expect(kept(rig, 'body lost')).toBe(false);
    }, 10_000);
  }
});

const consumer = `
const results = [];
const events = [];
on('sonoran911:callCreated', (id, callId) => events.push(callId));
exports('raise', (input) => exports['${RESOURCE}'].createDispatchCall(input, (r) => results.push(r.callId)));
exports('seen', () => ({ results, events }));
`;

describe('the call number a player reads', () => {
  it('shows only a plain, short call number, else "unknown", in chat, log, events and callbacks', async () => {
    rig = await startRig();
    rig.fx.startResource('alarm', { server: consumer });
    const alarm = rig.fx.exportsOf<{
      raise(input: unknown): { ok: boolean };
      seen(): { results: unknown[]; events: unknown[] };
    }>('alarm');
    const hostile = `^1<font color="red">CALL ${'9'.repeat(5_000)}</font>${'^7'.repeat(10)}`;
    expect(hostile.length).toBeGreaterThan(5_000);
    rig.cad.failNext(2, { status: 201, body: { callId: hostile } });
    rig.cad.failNext(1, { status: 201, body: { callId: 'CAD-2026-77' } });
    const [p] = await playersReady(rig, 1);
    p!.type('/911 hostile number');
    await rig.fx.waitFor(() => said(p!, /created/), { what: 'created' });
    expect(said(p!, /^Your dispatch call was created\. Help has been notified\.$/)).toBe(true);
    expect(p!.chatText().join('\n')).not.toMatch(/\^1|<font|9999/);

    alarm.raise({ title: 'Vault alarm', coords: [420, -980, 30], communityUserIds: ['desk'] });
    alarm.raise({ title: 'Vault alarm 2', coords: [420, -980, 30], communityUserIds: ['desk'] });
    await rig.fx.waitFor(() => alarm.seen().results.length === 2, { what: 'callbacks' });
    expect(alarm.seen().results).toEqual(['unknown', 'CAD-2026-77']);
    expect(alarm.seen().events).toEqual(['unknown', 'unknown', 'CAD-2026-77']);
    expect(rig.log()).not.toMatch(/\^1|<font|9999/);
    expect(rig.log()).toContain('created as CAD call #CAD-2026-77');
  });
});
