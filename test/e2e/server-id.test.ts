// The CAD server id: decimal only, and read again by `sonoran911 retry`, as the console
// advises after a 404 or a refused key.
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, op, playersReady, type Rig, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe('sonoran911_serverId', () => {
  it('is read again by "sonoran911 retry all", which says the server id it now uses', async () => {
    rig = await startRig({ convars: { sonoran911_apiKey: API_KEY, sonoran911_serverId: '7' } });
    const [p] = await playersReady(rig, 1);
    p!.type('/911 wrong server');
    await rig.fx.waitFor(() => said(p!, /Server 7 is not configured/), { what: 'the 404' });

    rig.fx.setConvar('sonoran911_serverId', '1');
    const retried = op(rig, 'sonoran911 retry all').join('\n');
    await rig.fx.waitFor(() => rig!.cad.requests.length === 2, { what: 'the second attempt' });
    expect(rig.cad.requests.map((r) => r.path)).toEqual([
      '/v2/emergency/servers/7/dispatch-calls',
      '/v2/emergency/servers/1/dispatch-calls',
    ]);
    await rig.fx.waitFor(() => said(p!, /created/), { what: 'created on server 1' });
    expect(rig.cad.calls).toHaveLength(1);
    expect(retried).toMatch(
      /retry: 1 dead letter\(s\) re-queued, sending resumed \(API key from convar sonoran911_apiKey\); calls go to CAD server 1 \(from convar sonoran911_serverId\)/,
    );

    // A value that is no server id leaves the one in use, and the answer says why.
    rig.fx.setConvar('sonoran911_serverId', '0x10');
    const answer = op(rig, 'sonoran911 retry all').join('\n');
    expect(answer).toContain(
      'retry: convar sonoran911_serverId = "0x10": expected a CAD server id, a whole number from 1 to 1000000 in decimal digits; CAD server 1 (from convar sonoran911_serverId) stays in use',
    );
    expect(answer).toContain('calls go to CAD server 1');
  });

  it('refuses a hexadecimal server id at start instead of reading "0x10" as 16', async () => {
    rig = await startRig({ convars: { sonoran911_apiKey: API_KEY, sonoran911_serverId: '0x10' } });
    const [p] = await playersReady(rig, 1);
    expect(rig.log()).toContain(
      'convar sonoran911_serverId = "0x10": expected a CAD server id, a whole number from 1 to 1000000 in decimal digits',
    );
    p!.type('/911 hex server');
    await rig.fx.waitFor(() => said(p!, /unavailable|received/), { what: 'an answer' });
    expect(said(p!, /unavailable/)).toBe(true);
    await rig.fx.settle();
    expect(rig.cad.requests).toHaveLength(0);
  });
});
