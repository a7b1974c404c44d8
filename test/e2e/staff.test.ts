/** Staff alerts through a webhook, against the local Discord stand-in (sandbox/discord.ts). */
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalDiscord, startLocalDiscord } from '../../sandbox/discord';
import { API_KEY, bankRobber, type Rig, said, startRig } from './rig';

let rig: Rig | null = null;
let hook: LocalDiscord | null = null;
afterEach(async () => {
  await rig?.close();
  await hook?.close();
  rig = null;
  hook = null;
});

const titles = (h: LocalDiscord) =>
  h.messages.map((m) => (m.body as { embeds: { title: string }[] }).embeds[0]!.title);
const descriptions = (h: LocalDiscord) =>
  h.messages.map((m) => (m.body as { embeds: { description: string }[] }).embeds[0]!.description);

describe('staff webhook', () => {
  it('tells staff once when the CAD refuses the key, and never prints the webhook URL', async () => {
    hook = await startLocalDiscord();
    rig = await startRig({
      convars: { sonoran911_apiKey: 'a-key-the-cad-does-not-know', sonoran911_webhook: hook.url },
    });
    const { fx } = rig;
    const players = [0, 1].map((i) =>
      fx.addPlayer({ ...bankRobber, name: `Caller ${i}`, identifiers: [`license:c${i}`] }),
    );
    await fx.waitFor(() => players.every((p) => p.hasClientCommand('911')), { what: 'clients' });
    for (const p of players) p.type('/911 shots fired');
    await fx.waitFor(() => hook!.messages.length >= 1, { what: 'the staff message' });
    await fx.waitFor(() => said(players[1]!, /unavailable/), { what: 'the callers told' });
    expect(titles(hook)).toHaveLength(1);
    expect(descriptions(hook)[0]).toMatch(/refused the API key/);
    const token = hook.url.split('/').at(-1)!;
    expect(rig.log()).not.toContain(token);
    expect(JSON.stringify(hook.messages)).not.toContain(API_KEY);
  });

  it('tells staff of a dead letter with the CAD’s reason', async () => {
    hook = await startLocalDiscord();
    rig = await startRig({
      convars: { sonoran911_apiKey: API_KEY, sonoran911_webhook: hook.url },
    });
    const { fx, cad } = rig;
    const player = fx.addPlayer(bankRobber);
    await fx.waitFor(() => player.hasClientCommand('911'), { what: 'client' });
    cad.failNext(1, { status: 422, body: { title: 'Unprocessable', detail: 'postal unknown' } });
    player.type('/911 shots fired');
    await fx.waitFor(() => hook!.messages.length >= 1, { what: 'the staff message' });
    expect(descriptions(hook)[0]).toMatch(/dead letter.*postal unknown/);
  });

  it('says once that a webhook URL is unusable, without printing it, and takes calls as ever', async () => {
    rig = await startRig({
      convars: { sonoran911_apiKey: API_KEY, sonoran911_webhook: 'ftp://secret-host/hook' },
    });
    const { fx } = rig;
    const player = fx.addPlayer(bankRobber);
    await fx.waitFor(() => player.hasClientCommand('911'), { what: 'client' });
    player.type('/911 shots fired');
    await fx.waitFor(() => said(player, /created/), { what: 'the call' });
    expect(rig.log()).toMatch(/sonoran911_webhook/);
    expect(rig.log()).not.toContain('secret-host');
  });
});
