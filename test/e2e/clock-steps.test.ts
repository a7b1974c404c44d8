/**
 * The server's wall clock is set back or forward an hour while the resource runs (an NTP
 * correction, an operator, a VM resumed). The built resource must neither stall calls and
 * cooldowns for that hour nor burst past the CAD's budget. The CAD stand-in counts on a
 * monotonic clock, as the real one is unaffected by this server's clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, op, playersReady, type Rig, said, startRig } from './rig';

const HOUR = 3_600_000;
const RealDate = Date;
let offset = 0;

/** Date as every script sees it (the emulator hands scripts the host's Date), `offset` away. */
class SteppedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(RealDate.now() + offset);
    else super(...(args as [number]));
  }
  static override now(): number {
    return RealDate.now() + offset;
  }
}

const steady = () => performance.timeOrigin + performance.now();

let rig: Rig | null = null;
afterEach(async () => {
  globalThis.Date = RealDate;
  offset = 0;
  await rig?.close();
  rig = null;
});

async function twoCallsSent() {
  globalThis.Date = SteppedDate as DateConstructor;
  rig = await startRig({
    config: {
      rateLimit: { requests: 2, windowSeconds: 3, marginMs: 100 },
      commands: [{ name: '911', cooldownSeconds: 5 }],
    },
    cad: { limit: { requests: 2, windowMs: 3_000 }, now: steady },
  });
  const players = await playersReady(rig, 4);
  players[0]!.type('/911 one');
  players[1]!.type('/911 two');
  await rig.fx.waitFor(() => said(players[0]!, /created/) && said(players[1]!, /created/), {
    what: 'two calls created',
  });
  return { r: rig, players };
}

describe('a wall clock step while the resource runs', () => {
  it('set back an hour: the next call waits for the window, not an hour, and so do cooldowns', async () => {
    const { r, players } = await twoCallsSent();
    offset = -HOUR;
    players[2]!.type('/911 three');
    await r.fx.waitFor(() => said(players[2]!, /received/), { what: 'received' });
    const next = op(r, 'sonoran911 status').find((l) => l.startsWith('next send'));
    expect(next).toMatch(/^next send: in [0-3]\.\d s$/);
    await r.fx.waitFor(() => said(players[2]!, /created/), {
      what: 'the third call within the window',
      timeoutMs: 6_000,
    });
    // The cooldown of the first caller is 5 s, not an hour and 5 s.
    players[0]!.type('/911 again');
    await r.fx.waitFor(() => said(players[0]!, /Please wait/), { what: 'cooldown line' });
    const wait = players[0]!.chat.map((m) => /Please wait (\d+) s/.exec(m.text)?.[1]).find(Boolean);
    expect(Number(wait)).toBeLessThanOrEqual(5);
    expect(r.cad.count429).toBe(0);
  }, 15_000);

  it('set forward an hour: no burst past the budget', async () => {
    const { r, players } = await twoCallsSent();
    offset = HOUR;
    players[2]!.type('/911 three');
    players[3]!.type('/911 four');
    await r.fx.waitFor(() => r.cad.calls.length === 4, { what: 'four calls', timeoutMs: 8_000 });
    expect(r.cad.count429).toBe(0);
    expect(r.cad.maxInAnyWindow(API_KEY)).toBe(2);
  }, 15_000);
});
