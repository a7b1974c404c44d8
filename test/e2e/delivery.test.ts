import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, playersReady, type Rig, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe('delivery under limits and faults', () => {
  it('spends the budget to the last request without a 429, and tells late callers the wait', async () => {
    rig = await startRig({
      config: { rateLimit: { requests: 2, windowSeconds: 5, marginMs: 100 } },
      cad: { limit: { requests: 2, windowMs: 5_000 } },
    });
    const players = await playersReady(rig, 4);
    for (const p of players) p.type(`/911 report from ${p.name}`);
    await rig.fx.waitFor(() => players.every((p) => said(p, /created/)), {
      what: 'all created',
      timeoutMs: 9_000,
    });
    expect(rig.cad.calls).toHaveLength(4);
    expect(rig.cad.count429).toBe(0);
    expect(rig.cad.maxInAnyWindow(API_KEY)).toBe(2);
    expect(said(players[0]!, /being sent to dispatch/)).toBe(true);
    expect(
      said(players[3]!, /busy: you are number 2 in line, it will be sent in about [5-7] s/),
    ).toBe(true);
  }, 15_000);

  it('urgent calls overtake queued non-emergency ones', async () => {
    rig = await startRig({
      config: { rateLimit: { requests: 1, windowSeconds: 1, marginMs: 50 } },
      cad: { limit: { requests: 1, windowMs: 1_000 } },
    });
    const [a, b, c] = await playersReady(rig, 3);
    a!.type('/311 first, non-emergency');
    await rig.fx.waitFor(() => rig!.cad.calls.length === 1, { what: 'first call' });
    b!.type('/311 second, non-emergency');
    c!.type('/911 third, emergency');
    await rig.fx.waitFor(() => rig!.cad.calls.length === 3, {
      what: 'three calls',
      timeoutMs: 8_000,
    });
    expect(rig.cad.calls.map((call) => call.body.code)).toEqual(['311', '911', '311']);
    expect(rig.cad.count429).toBe(0);
  }, 12_000);

  it('waits out a 429 caused by another user of the key, then delivers', async () => {
    rig = await startRig({
      cad: { limit: { requests: 3, windowMs: 1_500 }, retryAfter: 'seconds' },
    });
    const [p] = await playersReady(rig, 1);
    rig.cad.spend(API_KEY, 3);
    p!.type('/911 lights out');
    await rig.fx.waitFor(() => said(p!, /busy: your call will be sent in about/), {
      what: 'busy line',
    });
    await rig.fx.waitFor(() => said(p!, /created/), { what: 'created', timeoutMs: 5_000 });
    expect(rig.cad.calls).toHaveLength(1);
    expect(rig.cad.count429).toBe(1);
    expect(rig.log()).toMatch(/rate limited by the CAD \(retry-after\)/);
  });

  it('retries a CAD outage, a dropped connection and a hang until the call lands', async () => {
    rig = await startRig({ config: { api: { timeoutMs: 1_000 }, retry: { backoffBaseMs: 200 } } });
    const [p] = await playersReady(rig, 1);
    rig.cad.failNext(1, { status: 503, body: '<html>Service Unavailable</html>' });
    rig.cad.failNext(1, 'reset');
    rig.cad.failNext(1, 'hang');
    p!.type('/911 still there?');
    await rig.fx.waitFor(() => said(p!, /cannot be reached right now/), { what: 'delayed line' });
    await rig.fx.waitFor(() => said(p!, /created/), { what: 'created', timeoutMs: 6_000 });
    expect(rig.cad.calls).toHaveLength(1);
    // One chat line about the delay, not one per attempt.
    expect(p!.chat.filter((m) => /cannot be reached/.test(m.text))).toHaveLength(1);
    expect(rig.log()).toMatch(/HTTP 503/);
    expect(rig.log()).toMatch(/timed out/);
  }, 10_000);

  it('stops at a refused key, says so loudly once, and keeps the call', async () => {
    rig = await startRig({ convars: { sonoran911_apiKey: 'wrong-key-000' } });
    const [a, b] = await playersReady(rig, 2);
    a!.type('/911 first');
    await rig.fx.waitFor(() => said(a!, /unavailable/), { what: 'unavailable line' });
    b!.type('/911 second');
    await rig.fx.waitFor(() => said(b!, /unavailable/), {
      what: 'unavailable line for the next caller',
    });
    expect(rig.cad.requests).toHaveLength(1);
    expect(rig.log().match(/THE CAD REFUSED THE API KEY/g)).toHaveLength(1);
    expect(rig.log()).not.toContain('wrong-key-000');
  });
});
