// The API key never reaches anything stored or shown: console, KVP, chat (players' and
// admins'), events, callbacks. And a key HTTP cannot carry is trimmed or refused at start.
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, bankRobber, op, playersReady, RESOURCE, type Rig, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

/** Everything a person can read or the resource keeps, as one text. */
const everything = (r: Rig): string =>
  [r.log(), ...r.fx.kvp(RESOURCE).values(), ...r.fx.players().flatMap((p) => p.chatText())].join(
    '\n',
  );

const consumer = `
const seen = [];
on('sonoran911:callFailed', (id, error) => seen.push(error));
exports('raise', (input) => exports['${RESOURCE}'].createDispatchCall(input, (r) => seen.push(r.error)));
exports('seen', () => seen);
`;

describe('the API key stays out of everything stored or shown', () => {
  it('redacts a 400 whose detail quotes the Authorization header, in chat, dead letters, events and callbacks', async () => {
    rig = await startRig();
    rig.fx.startResource('alarm', { server: consumer });
    const alarm = rig.fx.exportsOf<{ raise(i: unknown): unknown; seen(): string[] }>('alarm');
    const admin = rig.fx.addPlayer({
      ...bankRobber,
      name: 'Admin',
      identifiers: ['license:admin'],
      aces: ['command.sonoran911'],
    });
    const [p] = await playersReady(rig, 1);
    rig.cad.failNext(2, 'echo-key');
    p!.type('/911 echo');
    await rig.fx.waitFor(() => said(p!, /could not accept your call/), { what: 'refusal' });
    expect(said(p!, /Authorization: Bearer \[redacted\]/)).toBe(true);
    alarm.raise({ title: 'Alarm', coords: [420, -980, 30], communityUserIds: ['desk'] });
    await rig.fx.waitFor(() => alarm.seen().length === 3, { what: 'event and callback' });
    admin.type('/sonoran911 dead');
    await rig.fx.waitFor(() => admin.chat.length >= 2, { what: 'dead letters in admin chat' });
    expect(admin.chatText().join('\n')).toMatch(/Malformed request header/);
    expect(op(rig, 'sonoran911 dead').join('\n')).toMatch(/Bearer \[redacted\]/);
    expect(alarm.seen().join('\n')).not.toContain(API_KEY);
    expect(everything(rig)).not.toContain(API_KEY);
  });

  it('redacts a key the CAD quotes cut short, from the stalled call in KVP and the queue', async () => {
    rig = await startRig();
    const [p] = await playersReady(rig, 1);
    const cut = `${API_KEY.slice(0, 16)}…`;
    rig.cad.setOutage({ status: 503, body: { detail: `upstream refused Bearer ${cut}` } });
    p!.type('/911 cut short');
    await rig.fx.waitFor(() => /stalled/.test(op(rig!, 'sonoran911 queue').join('\n')), {
      what: 'stalled call',
    });
    expect(op(rig, 'sonoran911 queue').join('\n')).toMatch(/upstream refused Bearer \[redacted\]/);
    expect(everything(rig)).not.toContain(API_KEY.slice(0, 16));
  });
});

describe('a key HTTP cannot carry', () => {
  it('trims typographic quotes, straight quotes and line breaks around the key', async () => {
    for (const wrapped of [`“${API_KEY}”`, `"${API_KEY}"\n`, ` '${API_KEY}' `]) {
      rig = await startRig({ convars: { sonoran911_apiKey: wrapped } });
      const [p] = await playersReady(rig, 1);
      p!.type('/911 quoted key');
      await rig.fx.waitFor(() => said(p!, /Dispatch call #1001 created/), {
        what: `created with ${JSON.stringify(wrapped)}`,
      });
      expect(rig.cad.requests.map((r) => r.key)).toEqual([API_KEY]);
      await rig.close();
      rig = null;
    }
  });

  it('refuses a key with a line break inside at start, says what is wrong without the key, and takes a fixed one on retry', async () => {
    const broken = `${API_KEY.slice(0, 10)}\n${API_KEY.slice(10)}`;
    rig = await startRig({ convars: { sonoran911_apiKey: broken } });
    const admin = rig.fx.addPlayer({
      ...bankRobber,
      name: 'Admin',
      identifiers: ['license:admin'],
      aces: ['command.sonoran911'],
    });
    const [p] = await playersReady(rig, 1);
    p!.type('/911 newline key');
    await rig.fx.waitFor(() => said(p!, /unavailable|received/), { what: 'an answer' });
    // Time for an attempt, had the call been taken.
    await new Promise((resolve) => setTimeout(resolve, 300));
    admin.type('/sonoran911 queue');
    await rig.fx.settle();
    for (const part of [API_KEY.slice(0, 10), API_KEY.slice(10)]) {
      expect(everything(rig)).not.toContain(part);
    }
    expect(said(p!, /unavailable/)).toBe(true);
    expect(rig.cad.requests).toHaveLength(0);
    expect(rig.log()).toMatch(
      /convar sonoran911_apiKey: the API key contains a line break \(character 11 of 26\)/,
    );

    rig.fx.setConvar('sonoran911_apiKey', API_KEY);
    expect(op(rig, 'sonoran911 retry all').join('\n')).toMatch(
      /API key from convar sonoran911_apiKey/,
    );
    p!.type('/911 fixed key');
    await rig.fx.waitFor(() => said(p!, /created/), { what: 'created after the fix' });
    expect(rig.cad.calls).toHaveLength(1);
  });
});
