import { describe, expect, it } from 'vitest';
import { buildCall, type Report } from '../../shared/call/build';
import { commandSchema } from '../../shared/config/schema';

const formats = {
  addressFormat: '{street}, {zone}',
  blockFormat: '{street} / {crossing}',
  unknownLocation: 'Unknown location',
  nearPostal: 'Near postal {postal}',
};
const report = (over: Partial<Report> = {}): Report => ({
  template: commandSchema.parse({ name: '911' }),
  description: 'shots fired at the bank',
  position: { x: 425.123, y: -979.2, z: 30.7 },
  heading: 91.6,
  names: { street: 'Alta St', crossing: 'Integrity Way', zone: 'Downtown' },
  postal: '8055',
  caller: { name: 'Jo Bloggs', playerId: 3, communityUserId: 'abc' },
  requestId: 'req-1',
  ...over,
});

describe('buildCall', () => {
  it('carries every contract field, the caller and the place', () => {
    const built = buildCall(report(), formats);
    expect(built).toEqual({
      ok: true,
      call: {
        origin: 0,
        status: 1,
        priority: 1,
        block: 'Alta St / Integrity Way',
        address: 'Alta St, Downtown',
        postal: '8055',
        title: '911 Call',
        code: '911',
        description: 'shots fired at the bank',
        notes: [],
        communityUserIds: ['abc'],
        metaData: {
          source: 'sonoran-911',
          x: '425.12',
          y: '-979.2',
          z: '30.7',
          postal: '8055',
          heading: '92',
          callerName: 'Jo Bloggs',
          callerPlayerId: '3',
          callerCommunityUserId: 'abc',
          requestId: 'req-1',
        },
      },
    });
  });

  it('adds the command fixed targets once and leaves the caller off when attachCaller is false', () => {
    const command = commandSchema.parse({
      name: 'alarm',
      attachCaller: false,
      communityUserIds: ['dispatch', 'dispatch'],
      accounts: ['0b7e8d4e-6a55-4d5e-9a51-3f8f0c8a1d2e'],
      deleteAfterMinutes: 30,
      priority: 2,
    });
    const built = buildCall(report({ template: command }), formats);
    if (!built.ok) throw new Error(built.error);
    expect(built.call.communityUserIds).toEqual(['dispatch']);
    expect(built.call.accounts).toEqual(['0b7e8d4e-6a55-4d5e-9a51-3f8f0c8a1d2e']);
    expect(built.call.deleteAfterMinutes).toBe(30);
    expect(built.call.priority).toBe(2);
  });

  it('hides the caller from the CAD on an anonymous call', () => {
    const command = commandSchema.parse({
      name: '911a',
      anonymous: true,
      communityUserIds: ['dispatch'],
    });
    const built = buildCall(
      report({
        template: command,
        caller: { name: 'Anonymous', playerId: 3, communityUserId: 'abc' },
      }),
      formats,
    );
    if (!built.ok) throw new Error(built.error);
    expect(built.call.communityUserIds).toEqual(['dispatch']);
    expect(built.call.metaData).toMatchObject({ callerName: 'Anonymous' });
    expect(JSON.stringify(built.call)).not.toMatch(/abc|callerPlayerId|callerCommunityUserId/);
  });

  it('says "near postal" when only the postal is known', () => {
    const built = buildCall(report({ names: {} }), formats);
    if (!built.ok) throw new Error(built.error);
    expect(built.call.address).toBe('Near postal 8055');
    expect(built.call.block).toBe('Near postal 8055');
  });

  it('falls back when names and postal are unknown', () => {
    const built = buildCall(report({ names: {}, postal: null, heading: null }), formats);
    if (!built.ok) throw new Error(built.error);
    expect(built.call.address).toBe('Unknown location');
    expect(built.call.block).toBe('Unknown location');
    expect(built.call.postal).toBe('');
    expect(built.call.metaData).not.toHaveProperty('postal');
    expect(built.call.metaData).not.toHaveProperty('heading');
  });

  it('refuses a call with no target at all, as the CAD would', () => {
    const built = buildCall(
      report({ caller: { name: 'x', playerId: 1, communityUserId: null } }),
      formats,
    );
    expect(built).toMatchObject({ ok: false, error: expect.stringMatching(/at least one target/) });
  });
});
