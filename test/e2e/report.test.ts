import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, bankRobber, type Rig, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

const lines = (player: { chat: { text: string }[] }) => player.chat.map((m) => m.text);

describe('/911 end to end', () => {
  it('creates exactly one CAD call with every field and tells the player its callId', async () => {
    rig = await startRig();
    const { fx, cad } = rig;
    const player = fx.addPlayer(bankRobber);
    await fx.waitFor(() => player.suggestions.has('/911'), { what: 'chat suggestion for /911' });
    expect(player.suggestions.get('/311')?.help).toBe('Non-emergency line');

    player.type('/911 shots fired at the bank');
    await fx.waitFor(() => said(player, /Dispatch call #\d+ created/), {
      what: 'the callId in chat',
    });

    expect(cad.calls).toHaveLength(1);
    const { body, callId, headers } = cad.calls[0]!;
    expect(lines(player)).toEqual([
      'Your call was received and is being sent to dispatch.',
      `Dispatch call #${callId} created. Help has been notified.`,
    ]);
    expect(headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(body).toEqual({
      origin: 0,
      status: 1,
      priority: 1,
      title: '911 Call',
      code: '911',
      description: 'shots fired at the bank',
      address: 'Alta St, Downtown',
      block: 'Alta St / Integrity Way',
      postal: '8055',
      notes: [],
      communityUserIds: ['1a2b3c4d5e'],
      metaData: {
        source: 'sonoran-911',
        x: '425.1',
        y: '-979.2',
        z: '30.7',
        postal: '8055',
        heading: '92',
        callerName: 'Jo Bloggs',
        callerPlayerId: String(player.id),
        callerCommunityUserId: '1a2b3c4d5e',
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    });
    expect(rig.log()).toContain(`created as CAD call #${callId}`);
    expect(fx.errors).toEqual([]);
  });

  it('keeps the API key out of every log line, chat line and client', async () => {
    rig = await startRig();
    const player = rig.fx.addPlayer(bankRobber);
    await rig.fx.waitFor(() => player.suggestions.has('/911'), { what: 'suggestions' });
    player.type('/911 fire in the kitchen');
    await rig.fx.waitFor(() => rig!.cad.calls.length === 1, { what: 'the call' });
    const everything = JSON.stringify({
      logs: rig.fx.logs,
      chat: player.chat,
      suggestions: [...player.suggestions],
    });
    expect(everything).not.toContain(API_KEY);
    expect(everything).not.toContain(API_KEY.slice(0, 12));
  });

  it('uses the server view of the position, not what the client claims', async () => {
    rig = await startRig();
    const player = rig.fx.addPlayer({
      ...bankRobber,
      position: [100, -800, 20],
      clientPosition: [-1200, 3000, 5],
    });
    await rig.fx.waitFor(() => player.suggestions.has('/911'), { what: 'suggestions' });
    player.type('/911 robbery');
    await rig.fx.waitFor(() => rig!.cad.calls.length === 1, { what: 'the call' });
    const { body } = rig.cad.calls[0]!;
    expect(body.metaData).toMatchObject({ x: '100', y: '-800', z: '20', postal: '8001' });
    // Names of a place the server cannot confirm are dropped.
    expect(body.address).toBe('Near postal 8001');
    expect(rig.log()).toMatch(/street names from far away/);
  });

  it('answers an empty report with usage and a second report within the cooldown with the wait', async () => {
    rig = await startRig({ config: { commands: [{ name: '911', cooldownSeconds: 120 }] } });
    const player = rig.fx.addPlayer(bankRobber);
    await rig.fx.waitFor(() => player.suggestions.has('/911'), { what: 'suggestions' });
    player.type('/911');
    await rig.fx.waitFor(() => said(player, /Usage: \/911 <what happened>/), {
      what: 'usage line',
    });
    player.type('/911 first');
    player.type('/911 second');
    await rig.fx.waitFor(() => said(player, /Please wait 120 s before using \/911 again/), {
      what: 'cooldown line',
    });
    await rig.fx.waitFor(() => said(player, /created/), { what: 'first call created' });
    expect(rig.cad.calls.map((c) => c.body.description)).toEqual(['first']);
  });

  it('keeps a gated command to players with the ACE', async () => {
    rig = await startRig({ config: { commands: [{ name: 'panic', ace: 'sonoran911.panic' }] } });
    const civ = rig.fx.addPlayer({ ...bankRobber, name: 'Civ' });
    const cop = rig.fx.addPlayer({
      ...bankRobber,
      name: 'Cop',
      identifiers: ['license:c0p'],
      aces: ['sonoran911.panic'],
    });
    await rig.fx.waitFor(
      () =>
        cop.hasClientCommand('panic') && civ.received.some((e) => e.name === 'sonoran911:commands'),
      { what: 'command lists delivered' },
    );
    // The stock chat re-suggests every command a client may run, after its own delay.
    const refreshes = civ.chatRefreshes;
    rig.fx.startResource('some-other-resource', { client: '' });
    await rig.fx.waitFor(() => civ.chatRefreshes > refreshes, { what: 'chat refresh' });
    // The civilian's client never learns of /panic: no command, no suggestion, not even
    // from the chat's own refresh of registered commands.
    expect(civ.hasClientCommand('panic')).toBe(false);
    expect(civ.suggestions.has('/panic')).toBe(false);
    expect(rig.fx.registeredCommands(civ).map((c) => c.name)).not.toContain('panic');
    civ.type('/panic help');
    // A forged report for the gated command is still refused by the server.
    civ.emitNet('sonoran911:report', { command: 'panic', description: 'forged', location: null });
    cop.type('/panic officer down');
    await rig.fx.waitFor(() => said(civ, /not allowed to use \/panic/) && said(cop, /created/), {
      what: 'answers',
    });
    expect(rig.cad.calls.map((c) => c.body.description)).toEqual(['officer down']);
  });

  it('refuses every call and says why when no API key is set', async () => {
    rig = await startRig({ convars: {} });
    const player = rig.fx.addPlayer(bankRobber);
    await rig.fx.waitFor(() => player.suggestions.has('/911'), { what: 'suggestions' });
    player.type('/911 help');
    await rig.fx.waitFor(() => said(player, /unavailable/), { what: 'unavailable line' });
    expect(rig.log()).toMatch(/no API key: set sonoran911_apiKey/);
    expect(rig.cad.requests).toHaveLength(0);
  });

  it('starts with a broken config.json, lists its problems and tells players the line is down', async () => {
    rig = await startRig({ config: '{ "commands": [ { "name": "911", "priority": "high" } ] }' });
    expect(rig.log()).toContain(
      'config.json commands[0].priority = "high": expected a whole number',
    );
    const player = rig.fx.addPlayer(bankRobber);
    await rig.fx.waitFor(() => player.suggestions.has('/911'), { what: 'suggestions (defaults)' });
    player.type('/911 help');
    await rig.fx.waitFor(() => said(player, /unavailable/), { what: 'unavailable line' });
    expect(rig.cad.requests).toHaveLength(0);
    expect(rig.fx.errors).toEqual([]);
  });

  it('tells the player in plain words when the CAD refuses the call, and logs the CAD detail', async () => {
    rig = await startRig();
    rig.cad.failNext(1, {
      status: 422,
      headers: { 'content-type': 'application/problem+json' },
      body: {
        type: 'about:blank',
        title: 'Unprocessable',
        status: 422,
        detail: 'postal is unknown',
        traceId: 'tr-42',
      },
    });
    const player = rig.fx.addPlayer(bankRobber);
    await rig.fx.waitFor(() => player.suggestions.has('/911'), { what: 'suggestions' });
    player.type('/911 help');
    await rig.fx.waitFor(() => said(player, /could not accept your call \(postal is unknown\)/), {
      what: 'refusal',
    });
    expect(rig.log()).toMatch(
      /CAD refused call .*HTTP 422, postal is unknown, traceId=tr-42, x-kong-request-id=/,
    );
  });
});

describe('what players cannot fake', () => {
  it('strips headers and markup that would make a report look like a system alert', async () => {
    rig = await startRig();
    const player = rig.fx.addPlayer({ ...bankRobber, name: '[DISPATCH] ^1Bob' });
    await rig.fx.waitFor(() => player.hasClientCommand('911'), { what: 'client ready' });
    player.type('/911 [ALARM] DISPATCH: <b>**all units**</b> code 99 at the bank');
    await rig.fx.waitFor(() => rig!.cad.calls.length === 1, { what: 'the call' });
    const { body } = rig.cad.calls[0]!;
    expect(body.description).toBe('all units code 99 at the bank');
    expect(body.title).toBe('911 Call');
    expect(body.metaData?.callerName).toBe('[DISPATCH] Bob');
  });

  it('keeps an anonymous caller from the CAD but not from the server log', async () => {
    rig = await startRig({
      config: {
        commands: [
          {
            name: '911a',
            anonymous: true,
            communityUserIds: ['dispatch-desk'],
            help: 'Anonymous tip',
          },
        ],
      },
    });
    const player = rig.fx.addPlayer(bankRobber);
    await rig.fx.waitFor(() => player.hasClientCommand('911a'), { what: 'client ready' });
    player.type('/911a drug deal behind the gas station');
    await rig.fx.waitFor(() => said(player, /created/), { what: 'created' });
    const sent = JSON.stringify(rig.cad.calls[0]!.body);
    expect(rig.cad.calls[0]!.body.metaData?.callerName).toBe('Anonymous');
    expect(rig.cad.calls[0]!.body.communityUserIds).toEqual(['dispatch-desk']);
    expect(sent).not.toMatch(/Jo Bloggs|1a2b3c4d5e|callerPlayerId/);
    expect(rig.log()).toMatch(/\/911a from Jo Bloggs \(license:1a2b3c4d5e\) anonymously queued/);
  });
});
