/**
 * Timing under clock steps and at scale: cooldowns, the budget taken back after a restart,
 * and the wait estimate players are told, whose cost must not grow with the queue.
 */
import { describe, expect, it } from 'vitest';
import { RollingLimiter } from '../../shared/delivery/limiter';
import { Cooldowns } from '../../shared/guards/cooldown';

const W = 60_000;
const HOUR = 3_600_000;

describe('a clock set back', () => {
  it('never makes a player wait longer than the cooldown itself', () => {
    const cooldowns = new Cooldowns();
    const t = 1_800_000_000_000;
    cooldowns.start('license:abc|911', t, 60_000);
    expect(cooldowns.remaining('license:abc|911', t + 1_000)).toBe(59_000);
    // The wall clock goes back an hour: "please wait 3599 s" before; at most 60 s now.
    expect(cooldowns.remaining('license:abc|911', t - HOUR)).toBeLessThanOrEqual(60_000);
    expect(cooldowns.remaining('license:abc|911', t + 60_000)).toBe(0);
  });

  it('takes back releases saved by a clock that was ahead as no later than their bound', () => {
    const now = 1_800_000_000_000;
    const limiter = new RollingLimiter({ requests: 2, windowMs: W, marginMs: 500 });
    // The last run's clock was an hour ahead; a saved release is at most timeout + margin away.
    limiter.restore([now + HOUR, now + HOUR + 1], now, 15_500);
    expect(limiter.canSend(now)).toBe(false);
    expect(limiter.nextFreeAt(now)).toBeLessThanOrEqual(now + 15_500 + W);
  });
});

describe('the wait estimate', () => {
  /** The estimate played out one request at a time, as it was computed before. */
  function slow(releases: number[], inFlight: number, k: number, now: number, o: Opts) {
    const hold = o.latency + o.marginMs;
    const list = [
      ...releases.filter((r) => r + o.windowMs > now),
      ...Array(inFlight).fill(now + hold),
    ];
    list.sort((a, b) => a - b);
    let t = now;
    let first = 0;
    for (let j = 0; ; j++) {
      while (list.length - first >= o.requests) {
        t = Math.max(t, list[first]! + o.windowMs);
        first++;
        while (first < list.length && list[first]! + o.windowMs <= t) first++;
      }
      if (j >= k) return t - now;
      list.push(t + hold);
      list.sort((a, b) => a - b);
    }
  }
  interface Opts {
    requests: number;
    windowMs: number;
    marginMs: number;
    latency: number;
  }

  it('matches playing it out request by request, for any state and place in line', () => {
    let seed = 3;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      const o: Opts = {
        requests: 1 + Math.floor(random() * 6),
        windowMs: 1_000 + Math.floor(random() * 5_000),
        marginMs: Math.floor(random() * 500),
        latency: Math.floor(random() * 400),
      };
      const now = 100_000;
      const limiter = new RollingLimiter(o);
      const releases: number[] = [];
      for (let i = 0; i < Math.floor(random() * 8); i++)
        releases.push(now - Math.floor(random() * o.windowMs) + o.marginMs);
      limiter.restore(releases, now);
      const inFlight = Math.floor(random() * 3);
      for (let i = 0; i < inFlight; i++) limiter.begin(`f${i}`, now);
      for (const k of [0, 1, 2, 5, 17, 60, 250]) {
        expect(limiter.estimateStartMs(k, now, o.latency)).toBe(
          slow(releases, inFlight, k, now, o),
        );
      }
    }
  });

  it('costs the same for the millionth place in line as for the first', () => {
    const limiter = new RollingLimiter({ requests: 20, windowMs: W, marginMs: 500 });
    const start = performance.now();
    for (let i = 0; i < 200; i++) limiter.estimateStartMs(1_000_000 + i, 0, 300);
    // Well under a millisecond each; played out one by one it took seconds in all.
    expect(performance.now() - start).toBeLessThan(200);
    expect(limiter.estimateStartMs(1_000_000, 0, 300)).toBe(50_000 * (W + 800));
  });
});
