import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../sandbox/support/clock';
import { createIntake } from '../../server/intake';
import { createLocator } from '../../server/locate';
import type { World } from '../../server/world';
import type { DispatchCall } from '../../shared/call/contract';
import { defaultMessages } from '../../shared/config/locale';
import { configSchema } from '../../shared/config/schema';
import type { Pause } from '../../shared/delivery/scheduler';
import { Cooldowns } from '../../shared/guards/cooldown';

const config = configSchema.parse({});
const [command] = config.commands;
const bank = { x: 425.1, y: -979.2, z: 30.7 };
const names = {
  ...bank,
  heading: 90,
  street: 'Alta St',
  crossing: 'Integrity Way',
  zone: 'Downtown',
};

/** The intake with every part it touches faked: no emulator, no CAD, a fake clock. */
function rig(over: { down?: string | null; position?: typeof bank | null } = {}) {
  const clock = new FakeClock();
  const told: [number, string][] = [];
  const queued: { id: string; call: DispatchCall; holdMs: number }[] = [];
  const amended: { id: string; call: DispatchCall }[] = [];
  const asked: [number, string][] = [];
  const world = {
    playerExists: () => true,
    playerName: () => 'Jo Bloggs',
    identifiers: () => ['license:abc'],
    position: () => (over.position === undefined ? bank : over.position),
    aceAllowed: () => false,
  } as unknown as World;
  let n = 0;
  const locator = createLocator({
    ask: (player, nonce) => asked.push([player, nonce]),
    timers: clock.timers_,
    newNonce: () => `nonce-${++n}`,
    timeoutMs: 1_500,
  });
  const intake = createIntake({
    world,
    config,
    messages: defaultMessages,
    formats: { ...config.location, unknownLocation: '?', nearPostal: 'Near postal {postal}' },
    down: (_pause: Pause | null) => over.down ?? null,
    dispatch: {
      enqueue: (id, call, _meta, holdMs) => {
        queued.push({ id, call, holdMs });
        return { ok: true, position: 0, waitMs: 0 };
      },
      scheduler: {
        status: () => ({ pause: null }) as never,
        amend: (id, call) => {
          amended.push({ id, call });
          return true;
        },
      },
    },
    locator,
    postals: { nearest: () => '8055' },
    notifier: { messages: defaultMessages, tell: (player, key) => told.push([player, key]) },
    cooldowns: new Cooldowns(),
    log: { info: () => {}, warn: () => {}, error: () => {} },
    now: clock.now,
    newId: () => `req-${++n}`,
  });
  return { intake, told, queued, amended, asked, locator };
}

const report = { kind: 'report', player: 3, command: command!, cooldown: true } as const;

describe('intake', () => {
  it('builds a typed report at the server view with the client names, and tells the player', () => {
    const { intake, told, queued } = rig();
    const answer = intake.take({ ...report, words: 'shots fired', claimed: names });
    expect(answer).toMatchObject({ ok: true, position: 1 });
    expect(queued[0]?.holdMs).toBe(0);
    expect(queued[0]?.call).toMatchObject({ address: 'Alta St, Downtown', postal: '8055' });
    expect(queued[0]?.call.metaData).toMatchObject({ heading: '90', callerName: 'Jo Bloggs' });
    expect(told).toEqual([[3, 'received']]);
  });

  it('starts the cooldown only for an accepted call', () => {
    const { intake, told } = rig();
    intake.take({ ...report, words: '', claimed: names });
    intake.take({ ...report, words: 'one', claimed: names });
    intake.take({ ...report, words: 'two', claimed: names });
    expect(told.map(([, key]) => key)).toEqual(['usage', 'received', 'cooldown']);
  });

  it('holds a report without a place, then amends it with what the client says', () => {
    const { intake, queued, amended, asked, locator } = rig();
    intake.take({ ...report, words: 'help', claimed: null, cooldown: false });
    expect(queued[0]?.holdMs).toBe(1_500);
    expect(queued[0]?.call.address).toBe('Near postal 8055');
    locator.answer(3, { nonce: asked[0]![1], location: names });
    expect(amended[0]?.call.address).toBe('Alta St, Downtown');
  });

  it('says the line is down to a player before anything else, to a script after its input', () => {
    const player = rig({ down: 'no API key' });
    expect(player.intake.take({ ...report, words: '', claimed: null })).toEqual({
      ok: false,
      error: 'the emergency line is unavailable: no API key',
    });
    expect(player.told).toEqual([[3, 'unavailable']]);
    const script = rig({ down: 'no API key' });
    const call = {
      kind: 'script',
      resource: 'alarms',
      player: null,
      template: { ...config.exportDefaults, title: 'Alarm' },
      words: '',
      coords: bank,
    } as const;
    expect(script.intake.take(call)).toMatchObject({ error: expect.stringMatching(/target/) });
    const targeted = { ...call, template: { ...call.template, communityUserIds: ['dispatch'] } };
    expect(script.intake.take(targeted)).toMatchObject({ error: /unavailable: no API key/ });
  });
});
