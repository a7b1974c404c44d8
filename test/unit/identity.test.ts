import { describe, expect, it } from 'vitest';
import { mapIdentity, stableKey } from '../../shared/call/identity';

const base = {
  identifierOrder: ['license', 'discord', 'fivem', 'steam'],
  stripPrefix: true,
  overrides: {},
};
const ids = ['ip:10.0.0.1', 'steam:110000100000001', 'discord:123456789', 'license:abcdef0123'];

describe('identity', () => {
  it('uses the first identifier type of the order the player has, without its prefix', () => {
    expect(mapIdentity(ids, base)).toEqual({
      identifier: 'license:abcdef0123',
      communityUserId: 'abcdef0123',
    });
    expect(
      mapIdentity(ids, { ...base, identifierOrder: ['fivem', 'discord'] })?.communityUserId,
    ).toBe('123456789');
  });

  it('keeps the prefix when stripPrefix is false', () => {
    expect(mapIdentity(ids, { ...base, stripPrefix: false })?.communityUserId).toBe(
      'license:abcdef0123',
    );
  });

  it('lets an override win, even for an identifier type outside the order', () => {
    const overrides = { 'steam:110000100000001': 'chief-lee' };
    expect(mapIdentity(ids, { ...base, overrides })).toEqual({
      identifier: 'steam:110000100000001',
      communityUserId: 'chief-lee',
    });
    expect(
      mapIdentity(ids, { ...base, identifierOrder: ['license'], overrides })?.communityUserId,
    ).toBe('chief-lee');
  });

  it('never uses an IP address and answers null when nothing fits', () => {
    expect(mapIdentity(['ip:1.2.3.4'], { ...base, identifierOrder: ['ip'] })).toBeNull();
    expect(mapIdentity(['ip:1.2.3.4'], { ...base, overrides: { 'ip:1.2.3.4': 'x' } })).toBeNull();
    expect(mapIdentity(['xbl:1'], base)).toBeNull();
  });

  it('keys cooldowns by license so a reconnect does not reset them', () => {
    expect(stableKey(ids, '7')).toBe('license:abcdef0123');
    expect(stableKey(['ip:1.2.3.4'], '7')).toBe('player:7');
  });
});
