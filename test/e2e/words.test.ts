// The caller's words and the names of the place, from a player's game to the CAD: kept,
// cleaned, cut with notice, never dropped.
import { afterEach, describe, expect, it } from 'vitest';
import { bankRobber, playersReady, type Rig, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

type Exports = { createDispatchCall(input: unknown): { ok: boolean } };

describe('the names of the place', () => {
  it('names an export call after the street only where the player stands', async () => {
    rig = await startRig();
    const [player] = await playersReady(rig, 1);
    const api = rig.fx.exportsOf<Exports>('sonoran-911', { from: 'alarms' });
    // An alarm 6 km from the player (postal 1030) and one at the player's spot.
    expect(
      api.createDispatchCall({ title: 'Far', playerId: player!.id, coords: [-1200, 3000, 30] }).ok,
    ).toBe(true);
    expect(
      api.createDispatchCall({ title: 'Here', playerId: player!.id, coords: [425, -979, 30] }).ok,
    ).toBe(true);
    await rig.fx.waitFor(() => rig!.cad.calls.length === 2, { what: 'both calls' });
    const byTitle = Object.fromEntries(rig.cad.calls.map((c) => [c.body.title, c.body]));
    expect(byTitle.Far).toMatchObject({ postal: '1030', address: 'Near postal 1030' });
    expect(byTitle.Here).toMatchObject({ postal: '8055', address: 'Alta St, Downtown' });
  });
});

describe("the caller's words", () => {
  it('makes the call from a very long description, cut to the configured length, and says so', async () => {
    rig = await startRig();
    const [player] = await playersReady(rig, 1);
    const words = Array.from({ length: 1_200 }, (_, i) => `word${i}`).join(' ');
    expect(words.length).toBeGreaterThan(4_000);
    player!.type(`/911 ${words}`);
    await rig.fx.waitFor(() => said(player!, /created/), { what: 'the call' });
    const { description } = rig.cad.calls[0]!.body;
    expect(Array.from(description)).toHaveLength(500);
    expect(description.startsWith('word0 word1 word2')).toBe(true);
    expect(description.endsWith('…')).toBe(true);
    expect(said(player!, /too long: only its first 500 characters were kept/)).toBe(true);
  });

  it('cleans the street names a client reports before they reach address and block', async () => {
    rig = await startRig();
    const [player] = await playersReady(rig, 1);
    const [x, y, z] = bankRobber.position;
    player!.emitNet('sonoran911:report', {
      command: '911',
      description: 'help at the bank',
      location: {
        x,
        y,
        z,
        heading: 90,
        street: '\u202eAlta\u200b St\u0007 <img src=x onerror=alert(1)> ^1',
        crossing: '[ALARM] DISPATCH: OFFICER DOWN',
        zone: `Downtown${'x'.repeat(500)}`,
      },
    });
    await rig.fx.waitFor(() => rig!.cad.calls.length === 1, { what: 'the call' });
    const { address, block } = rig.cad.calls[0]!.body;
    expect(block).toBe('Alta St / OFFICER DOWN');
    expect(address.startsWith('Alta St, Downtownxxx')).toBe(true);
    // Capped: the zone is at most 64 characters of the address.
    expect(address.length).toBeLessThanOrEqual('Alta St, '.length + 64);
    for (const bad of ['\u202e', '\u200b', '\u0007', '<', '>', '^'])
      expect(address + block).not.toContain(bad);
  });
});
