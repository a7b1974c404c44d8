import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 as prng } from '../../sandbox/support/prng';
import { mutate, randomValue, validReport } from '../support/garbage';
import { bankRobber, RESOURCE, type Rig, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

const heap = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
};

describe('hostile clients and resources', () => {
  it('drops thousands of random and mutated net payloads quietly and creates no call from them', async () => {
    rig = await startRig();
    // Many cheaters, so the parser sees hundreds of payloads before each flood guard closes.
    const cheats = Array.from({ length: 40 }, (_, i) =>
      rig!.fx.addPlayer({
        ...bankRobber,
        name: `Cheater ${i}`,
        identifiers: [`license:cheat${i}`],
      }),
    );
    await rig.fx.waitFor(() => cheats.every((c) => c.hasClientCommand('911')), {
      what: 'clients ready',
    });
    const r = prng(911);
    const before = heap();
    // Payloads a correct server may accept: a known command and some words. The location
    // is optional (the server has its own view), so garbage there does not make one invalid.
    const acceptable = new Set<string>();
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 250; i++) {
        const event = ['sonoran911:report', 'sonoran911:located', 'sonoran911:hello'][i % 3]!;
        const payload = i % 2 === 0 ? randomValue(r) : mutate(r);
        const p = payload as { command?: unknown; description?: unknown };
        if (
          event === 'sonoran911:report' &&
          typeof p?.command === 'string' &&
          /^(911|311)$/.test(p.command) &&
          typeof p.description === 'string' &&
          p.description.length <= 4_000
        ) {
          acceptable.add(p.description);
        }
        cheats[(round * 250 + i) % cheats.length]!.emitNet(event, payload, randomValue(r));
      }
      await rig.fx.settle();
    }
    await rig.fx.settle();
    expect(rig.fx.errors).toEqual([]);
    // At most one call per command per cheater (cooldowns), and only from an acceptable payload.
    expect(rig.cad.calls.length).toBeLessThanOrEqual(2 * cheats.length);
    for (const call of rig.cad.calls) expect(acceptable.has(call.body.description)).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const status = rig.fx.exportsOf<{
      getQueueStatus(): { droppedPayloads: number; queued: number };
    }>(RESOURCE);
    expect(status.getQueueStatus().droppedPayloads).toBeGreaterThan(3_000);
    // 5,000 payloads later the resource holds nothing more than before (the emulator's own
    // logs and the test's buffers aside, which stay well under this).
    expect(heap() - before).toBeLessThan(16 * 1024 * 1024);
  }, 30_000);

  it('creates one call per cooldown however often a player replays the same report', async () => {
    rig = await startRig();
    const spammer = rig.fx.addPlayer({ ...bankRobber, name: 'Spammer' });
    await rig.fx.waitFor(() => spammer.hasClientCommand('911'), { what: 'client ready' });
    for (let i = 0; i < 500; i++) spammer.emitNet('sonoran911:report', validReport());
    await rig.fx.settle();
    await rig.fx.waitFor(() => rig!.cad.calls.length === 1, { what: 'one call' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(rig.cad.calls).toHaveLength(1);
    // The flood guard drops most of them unread; the rest meet the cooldown.
    expect(spammer.chat.length).toBeLessThan(10);
    expect(rig.fx.errors).toEqual([]);
  });

  it('throws nothing at a resource that sends garbage to every export', async () => {
    rig = await startRig({ config: { exportCallsPerMinute: 1_000 } });
    const api = rig.fx.exportsOf<Record<string, (...args: unknown[]) => { ok?: boolean }>>(
      RESOURCE,
      {
        from: 'fuzzer',
      },
    );
    const r = prng(311);
    let accepted = 0;
    for (let i = 0; i < 1_000; i++) {
      const a = randomValue(r);
      const b = randomValue(r);
      const answers = [api.createDispatchCall!(a, b), api.report911!(a, b, randomValue(r))];
      for (const answer of answers) {
        expect(typeof answer).toBe('object');
        if (answer.ok) accepted++;
      }
      api.getQueueStatus!(a);
    }
    await rig.fx.settle();
    expect(accepted).toBe(0);
    expect(rig.cad.requests).toHaveLength(0);
    expect(rig.fx.errors).toEqual([]);
  });
});
