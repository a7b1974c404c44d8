import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../sandbox/support/clock';
import { createLocator } from '../../server/locate';

const location = {
  x: 1,
  y: 2,
  z: 3,
  heading: 90,
  street: 'Alta St',
  crossing: '',
  zone: 'Downtown',
};

function rig() {
  const clock = new FakeClock();
  const asked: [number, string][] = [];
  let n = 0;
  const locator = createLocator({
    ask: (player, nonce) => asked.push([player, nonce]),
    timers: clock.timers_,
    newNonce: () => `nonce-${++n}`,
    timeoutMs: 1_500,
  });
  return { clock, asked, locator };
}

describe('locator', () => {
  it('hands the answer of the asked player to the caller, once', () => {
    const { asked, locator } = rig();
    const answers: unknown[] = [];
    locator.request(7, (loc) => answers.push(loc));
    expect(asked).toEqual([[7, 'nonce-1']]);
    expect(locator.answer(7, { nonce: 'nonce-1', location })).toBe(true);
    expect(locator.answer(7, { nonce: 'nonce-1', location })).toBe(false);
    expect(answers).toEqual([location]);
  });

  it('ignores another player, an unknown nonce and a malformed answer', () => {
    const { locator } = rig();
    const answers: unknown[] = [];
    locator.request(7, (loc) => answers.push(loc));
    expect(locator.answer(8, { nonce: 'nonce-1', location })).toBe(false);
    expect(locator.answer(7, { nonce: 'guess', location })).toBe(false);
    expect(locator.answer(7, { nonce: 'nonce-1', location: { x: 'a' } })).toBe(false);
    expect(locator.answer(7, null)).toBe(false);
    expect(answers).toEqual([]);
  });

  it('gives up after the timeout with null, and a late answer changes nothing', async () => {
    const { clock, locator } = rig();
    const answers: unknown[] = [];
    locator.request(7, (loc) => answers.push(loc));
    await clock.advance(1_499);
    expect(answers).toEqual([]);
    await clock.advance(1);
    expect(answers).toEqual([null]);
    expect(locator.answer(7, { nonce: 'nonce-1', location })).toBe(false);
    expect(answers).toEqual([null]);
    expect(clock.pending()).toBe(0);
  });
});
