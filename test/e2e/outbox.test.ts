import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, op, playersReady, RESOURCE, type Rig, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

/** After a restart the clients register the commands again; wait until they have. */
async function commandsAgain(r: Rig, players: { hasClientCommand(name: string): boolean }[]) {
  await r.fx.waitFor(() => players.every((p) => p.hasClientCommand('911')), {
    what: 'commands registered again',
  });
}

describe('outbox, restarts and operators', () => {
  it('loses nothing across a restart during an outage and delivers after it', async () => {
    // Retries far apart, so no attempt is in flight at the restart and nothing is sent twice.
    rig = await startRig({ config: { retry: { backoffBaseMs: 60_000 } } });
    rig.cad.setOutage({ status: 503 });
    const players = await playersReady(rig, 3);
    for (const p of players) p.type(`/911 during the outage from ${p.name}`);
    await rig.fx.waitFor(
      () =>
        players.every((p) => said(p, /received/)) &&
        rig!.cad.requests.some((q) => q.status === 503) &&
        /^queue: 3 waiting .*, 0 in flight/.test(op(rig!, 'sonoran911 status')[0]!),
      { what: 'three calls waiting after a refusal, none in flight' },
    );
    expect(op(rig, 'sonoran911 status').join('\n')).toMatch(/paused: until .*the CAD is failing/);
    rig.restart();
    expect(rig.log()).toMatch(/outbox: 3 call\(s\) from before the restart will be sent/);
    rig.cad.setOutage(null);
    await rig.fx.waitFor(() => rig!.cad.calls.length === 3, {
      what: 'three calls after the restart',
    });
    expect(rig.cad.calls.map((c) => c.body.description).sort()).toEqual(
      players.map((p) => `during the outage from ${p.name}`).sort(),
    );
    // The players are still here after a resource restart: they hear the callId.
    await rig.fx.waitFor(() => players.every((p) => said(p, /created/)), { what: 'created lines' });
    await rig.fx.settle();
    expect([...rig.fx.kvp(RESOURCE).keys()].filter((k) => k.startsWith('outbox:call:'))).toEqual(
      [],
    );
    expect(rig.cad.calls).toHaveLength(3);
  });

  it('does not burst past the window after a restart', async () => {
    rig = await startRig({
      config: { rateLimit: { requests: 2, windowSeconds: 3, marginMs: 100 } },
      cad: { limit: { requests: 2, windowMs: 3_000 } },
    });
    const players = await playersReady(rig, 4);
    players[0]!.type('/911 one');
    players[1]!.type('/911 two');
    await rig.fx.waitFor(() => said(players[0]!, /created/) && said(players[1]!, /created/), {
      what: 'two calls created',
    });
    rig.restart();
    await commandsAgain(rig, players);
    players[2]!.type('/911 three');
    players[3]!.type('/911 four');
    await rig.fx.waitFor(() => rig!.cad.calls.length === 4, {
      what: 'four calls',
      timeoutMs: 6_000,
    });
    expect(rig.cad.count429).toBe(0);
    expect(rig.cad.maxInAnyWindow(API_KEY)).toBe(2);
    // The two after the restart had to wait for the window the first two opened.
    const [, second, third] = rig.cad.calls.map((c) => c.receivedAt);
    expect(third! - second!).toBeGreaterThanOrEqual(3_000);
  }, 10_000);

  it('waits a whole window after a 429 without Retry-After', async () => {
    rig = await startRig({
      config: { rateLimit: { windowSeconds: 2 } },
      cad: { limit: { requests: 1, windowMs: 1_000 }, retryAfter: 'none' },
    });
    const [p] = await playersReady(rig, 1);
    rig.cad.spend(API_KEY, 1);
    const start = Date.now();
    p!.type('/911 help');
    await rig.fx.waitFor(() => said(p!, /created/), { what: 'created', timeoutMs: 5_000 });
    expect(Date.now() - start).toBeGreaterThanOrEqual(1_900);
    expect(rig.log()).toMatch(/rate limited by the CAD \(full window\)/);
  });

  it('resumes after an operator fixes the key, with the same calls', async () => {
    rig = await startRig({ convars: { sonoran911_apiKey: 'revoked-key-1' } });
    const [p, q] = await playersReady(rig, 2);
    p!.type('/911 key trouble');
    q!.type('/911 me too');
    await rig.fx.waitFor(
      () =>
        /THE CAD REFUSED THE API KEY/.test(rig!.log()) &&
        said(p!, /unavailable/) &&
        said(q!, /unavailable/),
      { what: 'loud console line and both callers told' },
    );
    expect(op(rig, 'sonoran911 status').join('\n')).toMatch(/paused: until "sonoran911 retry all"/);
    rig.fx.setConvar('sonoran911_apiKey', API_KEY);
    expect(op(rig, 'sonoran911 retry all').join('\n')).toMatch(
      /sending resumed \(API key from convar sonoran911_apiKey\)/,
    );
    // Both callers heard that the line is down, whether their call was waiting or in flight.
    expect(said(p!, /unavailable/) && said(q!, /unavailable/)).toBe(true);
    await rig.fx.waitFor(() => said(p!, /created/) && said(q!, /created/), {
      what: 'created after the fix',
    });
    expect(rig.cad.calls.map((c) => c.body.description).sort()).toEqual(['key trouble', 'me too']);
    expect(rig.log()).not.toContain('revoked-key-1');
  });

  it('sets a refused call aside as a dead letter without blocking the queue', async () => {
    rig = await startRig();
    rig.cad.failNext(1, {
      status: 400,
      body: { title: 'Bad Request', status: 400, detail: 'block too long', traceId: 't-1' },
    });
    const [a, b] = await playersReady(rig, 2);
    a!.type('/911 refused');
    await rig.fx.waitFor(() => said(a!, /could not accept your call \(block too long\)/), {
      what: 'refusal',
    });
    b!.type('/911 accepted');
    await rig.fx.waitFor(() => said(b!, /created/), { what: 'next call created' });
    const dead = op(rig, 'sonoran911 dead');
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatch(/\/911 from Caller 0 at .*HTTP 400, block too long, traceId=t-1/);
    const id = dead[0]!.split(' ')[0]!;
    expect(op(rig, `sonoran911 retry ${id}`)).toEqual([
      `retry: ${id} re-queued; calls go to CAD server 1 (from config.json)`,
    ]);
    await rig.fx.waitFor(() => rig!.cad.calls.length === 2, { what: 'dead letter re-sent' });
    expect(op(rig, 'sonoran911 status').join('\n')).toMatch(/dead letters: 0/);
  });

  it('still sends the call when the caller disconnects first', async () => {
    rig = await startRig();
    rig.cad.setOutage({ status: 502 });
    const [p] = await playersReady(rig, 1);
    p!.type('/911 then I left');
    await rig.fx.waitFor(() => said(p!, /received/), { what: 'received' });
    p!.drop('quit');
    rig.cad.setOutage(null);
    await rig.fx.waitFor(() => rig!.cad.calls.length === 1, { what: 'the call', timeoutMs: 5_000 });
    await rig.fx.settle();
    expect(rig.fx.errors).toEqual([]);
  });

  it('answers operators one fact per line and refuses players without the ACE', async () => {
    rig = await startRig();
    const status = op(rig, 'sonoran911 status');
    expect(status).toEqual([
      'queue: 0 waiting (0 stalled), 0 in flight',
      'budget: 0 of 20 requests used in the rolling 60 s window',
      'next send: nothing waiting',
      'paused: no',
      'dead letters: 0',
      'notes: 0 waiting, 0 in flight; 0 of 60 note requests used in the rolling 60 s window',
    ]);
    expect(op(rig, 'sonoran911 drop zzzz')).toEqual(['no call id starts with "zzzz"']);
    expect(op(rig, 'sonoran911 wat')[0]).toMatch(/^usage: sonoran911 status/);
    const [p] = await playersReady(rig, 1);
    p!.type('/sonoran911 status');
    await rig.fx.settle();
    expect(said(p!, /queue:/)).toBe(false);
  });
});
