// Behaviour that depends on FXServer's own runtime rules (see
// sandbox/emulator/FXSERVER-RULES.md): the console tokenizer, stale peds, a misreported
// invoking resource, busy KVP search handles, shared command slots, reserved metaData.
import { afterEach, describe, expect, it } from 'vitest';
import { bankRobber, op, playersReady, RESOURCE, type Rig, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

type Answer = { ok: boolean; error?: string; id?: string };
type Exports = {
  createDispatchCall(input: unknown, cb?: unknown): Answer;
  report911(player: unknown, text: unknown, cb?: unknown): Answer;
};

describe('FXServer runtime rules', () => {
  it('keeps every word the player typed, whatever the console tokenizer makes of it', async () => {
    rig = await startRig();
    const players = await playersReady(rig, 3);
    const typed = [
      'Robbery at Fleeca #3 two suspects',
      'shots fired // near the "old" bank',
      'suspect said {"car": "red"} and [left] /* fast */',
    ];
    // One player each: a second /911 from one player would meet the cooldown.
    for (const [i, text] of typed.entries()) players[i]!.type(`/911 ${text}`);
    await rig.fx.waitFor(() => rig!.cad.calls.length === 3, { what: 'three calls' });
    expect(rig.cad.calls.map((c) => c.body.description).sort()).toEqual([...typed].sort());
  });

  it('lets a player use a gated command as soon as the ACE is granted, without reconnecting', async () => {
    rig = await startRig({
      config: { commands: [{ name: 'panic', ace: 'sonoran911.panic', cooldownSeconds: 0 }] },
    });
    const officer = rig.fx.addPlayer({ ...bankRobber, name: 'Officer' });
    await rig.fx.waitFor(() => officer.received.some((e) => e.name === 'sonoran911:commands'), {
      what: 'command list (without /panic)',
    });
    officer.type('/panic before duty');
    await rig.fx.waitFor(() => said(officer, /not allowed to use \/panic/), { what: 'refusal' });
    // The job script grants the ACE when the officer goes on duty.
    officer.aces.push('sonoran911.panic');
    officer.type('/panic officer down #2 at the pier');
    await rig.fx.waitFor(() => said(officer, /created/), { what: 'the call' });
    expect(rig.cad.calls.map((c) => c.body.description)).toEqual(['officer down #2 at the pier']);
    // The list was sent again: from now on the command runs on the client.
    await rig.fx.waitFor(() => officer.hasClientCommand('panic'), { what: '/panic registered' });
    expect(rig.fx.errors).toEqual([]);
  });

  it('answers a player whose ped the server lost, from where their game says they are', async () => {
    rig = await startRig();
    const [player] = await playersReady(rig, 1);
    player!.losePed();
    player!.type('/911 my car was stolen');
    await rig.fx.waitFor(() => said(player!, /created/), { what: 'created line' });
    const phone = rig.fx.exportsOf<Exports>(RESOURCE, { from: 'phone' });
    const answer = phone.report911(player!.id, 'someone is following me');
    expect(answer.ok).toBe(true);
    await rig.fx.waitFor(() => rig!.cad.calls.length === 2, { what: 'both calls' });
    for (const call of rig.cad.calls) {
      // The client's position and street, the postal nearest to it.
      expect(call.body.metaData).toMatchObject({ x: '425.1', y: '-979.2', postal: '8055' });
      expect(call.body.address).toContain('Alta St');
    }
    expect(rig.fx.errors).toEqual([]);
    expect(rig.log()).toMatch(/no server-side position for player 1/);
  });

  it('says when the server build cannot name an export caller, and never lets one through the allow list', async () => {
    rig = await startRig({
      fx: { invokerNamesSelf: true },
      config: { exportAllowList: ['qb-bankrobbery'] },
    });
    rig.fx.startResource('qb-bankrobbery', {
      server: `exports('rob', () => exports['${RESOURCE}'].createDispatchCall({ title: 'Fleeca', coords: [1, 2, 3], communityUserIds: ['dispatch'] }));`,
    });
    const robbery = rig.fx.exportsOf<{ rob(): Answer }>('qb-bankrobbery');
    const first = robbery.rob();
    const second = robbery.rob();
    expect(first.ok).toBe(false);
    expect(first.error).toMatch(/cannot name the resource calling this export.*27092/);
    expect(second.ok).toBe(false);
    const warnings = rig.fx
      .serverLog(RESOURCE)
      .filter((l) => /GetInvokingResource\(\) answered "sonoran-911"/.test(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/14427 to 27055/);
    expect(rig.cad.requests).toHaveLength(0);
  });

  it('takes calls from every resource under a shared name when there is no allow list', async () => {
    rig = await startRig({ fx: { invokerNamesSelf: true } });
    rig.fx.startResource('alarms', {
      server: `exports('ring', () => exports['${RESOURCE}'].createDispatchCall({ title: 'Alarm', coords: [1, 2, 3], communityUserIds: ['dispatch'] }));`,
    });
    expect(rig.fx.exportsOf<{ ring(): Answer }>('alarms').ring().ok).toBe(true);
    await rig.fx.waitFor(() => rig!.cad.calls.length === 1, { what: 'the call' });
    expect(rig.cad.calls[0]!.body.metaData).toMatchObject({ resource: '(unknown resource)' });
  });

  it('reads the saved calls again when every KVP search handle was taken at start', async () => {
    rig = await startRig({ config: { retry: { backoffBaseMs: 60_000 } } });
    rig.cad.setOutage({ status: 503 });
    const [player] = await playersReady(rig, 1);
    player!.type('/911 saved before the restart');
    await rig.fx.waitFor(
      () =>
        rig!.cad.requests.some((q) => q.status === 503) &&
        /^queue: 1 waiting .*0 in flight/.test(op(rig!, 'sonoran911 status')[0]!),
      { what: 'the call waiting after a refusal' },
    );
    rig.fx.stopResource(RESOURCE);
    rig.cad.setOutage(null);
    // Other resources hold all 64 handles FXServer shares between every resource.
    const release = rig.fx.holdKvpHandles(64);
    rig.fx.startResource(RESOURCE);
    expect(rig.log()).toMatch(/calls saved before the restart could not be read yet.*-1/);
    expect(op(rig, 'sonoran911 status')[0]).toMatch(/^queue: 0 waiting/);
    release();
    await rig.fx.waitFor(() => rig!.cad.calls.length === 1, {
      what: 'the saved call, once a handle is free',
      timeoutMs: 8_000,
    });
    expect(rig.cad.calls[0]!.body.description).toBe('saved before the restart');
  });

  it('warns when another resource registers one of our command names, naming it', async () => {
    rig = await startRig();
    rig.fx.startResource('other-911', {
      server: `RegisterCommand('911', () => {}, false);`,
      client: `RegisterCommand('911', () => {}, false);`,
    });
    expect(rig.log()).toMatch(/\/911 is also registered by resource "other-911" on the server/);
    const player = rig.fx.addPlayer(bankRobber);
    await rig.fx.waitFor(() => /resource "other-911" on players' game clients/.test(rig!.log()), {
      what: 'the client-side conflict',
    });
    // A cheat cannot invent conflicts: the resource it names must exist on this server.
    player.emitNet('sonoran911:conflict', { command: '911', resource: 'made-up' });
    player.emitNet('sonoran911:conflict', { command: 'nope', resource: 'other-911' });
    await rig.fx.settle();
    expect(rig.log()).not.toMatch(/made-up|\/nope/);
    expect(rig.log().match(/also registered by resource/g)).toHaveLength(2);
  });

  it("refuses an export caller's metaData key that the resource sets, naming it", async () => {
    rig = await startRig();
    const alarms = rig.fx.exportsOf<Exports>(RESOURCE, { from: 'alarms' });
    const answer = alarms.createDispatchCall({
      title: 'Alarm',
      coords: [1, 2, 3],
      communityUserIds: ['dispatch'],
      metaData: { source: 'my-alarm' },
    });
    expect(answer.ok).toBe(false);
    expect(answer.error).toMatch(/^metaData\.source = "my-alarm": "source" is set by sonoran-911/);
  });
});
