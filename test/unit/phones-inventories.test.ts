import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FxServer, type Player } from '../../sandbox/emulator';
import {
  oxInventory,
  qbInventory,
  qbInventoryV1,
  type SandboxInventory,
} from '../../sandbox/frameworks/inventories';
import { PHONE_STAND_INS, qsSmartphone, type SandboxPhone } from '../../sandbox/frameworks/phones';
import { INVENTORIES, startedInventory } from '../../server/framework/inventories';
import {
  MAX_PHONE_LENGTH,
  PHONES,
  phoneNumberOf,
  startedPhone,
} from '../../server/framework/phones';
import type { FrameworkHost } from '../../server/framework/types';

/** A host whose exports answer from `answers` and whose started resources are `started`. */
function fakeHost(
  answers: Record<string, (...args: unknown[]) => unknown>,
  started: string[] = [],
): FrameworkHost & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    resourceState: (name) => (started.includes(name) ? 'started' : 'missing'),
    call(resource, name, ...args) {
      calls.push([resource, name, ...args]);
      const answer = answers[`${resource}.${name}`];
      if (!answer) throw new Error(`No such export ${name} in resource ${resource}`);
      return answer(...args);
    },
    playerState: () => undefined,
  };
}

/** The host the server gives adapters, built on the emulator for these tests only. */
function emulatorHost(fx: FxServer): FrameworkHost {
  return {
    resourceState: (name) => fx.resourceState(name),
    call: (resource, name, ...args) => fx.exportsOf(resource)[name]!(...args),
    playerState: () => undefined,
  };
}

function phone(resource: string) {
  const found = PHONES.find((p) => p.resource === resource);
  if (!found) throw new Error(`no phone ${resource}`);
  return found;
}

function inventory(resource: string) {
  const found = INVENTORIES.find((i) => i.resource === resource);
  if (!found) throw new Error(`no inventory ${resource}`);
  return found;
}

describe('phoneNumberOf', () => {
  it('takes a non-empty string, trimmed, or a positive integer as text', () => {
    expect(phoneNumberOf('555-0100')).toBe('555-0100');
    expect(phoneNumberOf('  5550100 ')).toBe('5550100');
    expect(phoneNumberOf(5550100)).toBe('5550100');
    expect(phoneNumberOf('x'.repeat(MAX_PHONE_LENGTH))).toBe('x'.repeat(MAX_PHONE_LENGTH));
  });

  it('reads every other answer as no number', () => {
    for (const value of [
      null,
      undefined,
      false,
      true,
      '',
      '   ',
      0,
      -5,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 60,
      'x'.repeat(MAX_PHONE_LENGTH + 1),
      '555\n0100',
      '555\u00000100',
      {},
      [],
      { phoneNumber: '555' },
    ]) {
      expect(phoneNumberOf(value), String(value)).toBeNull();
    }
  });
});

describe('phone readers against fakes', () => {
  it('tries the phones in a fixed order', () => {
    expect(PHONES.map((p) => p.resource)).toEqual([
      'npwd',
      'lb-phone',
      'qs-smartphone',
      'gksphone',
      'okokPhone',
      'yseries',
    ]);
  });

  it.each([
    ['lb-phone', 'lb-phone', 'GetEquippedPhoneNumber'],
    ['qs-smartphone', 'qs-base', 'GetPlayerPhone'],
    ['gksphone', 'gksphone', 'GetPhoneBySource'],
    ['okokPhone', 'okokPhone', 'getPhoneNumberFromSource'],
    ['yseries', 'yseries', 'GetPhoneNumberBySourceId'],
  ])('%s: asks %s.%s with the server id', (resource, exportResource, exportName) => {
    const host = fakeHost({ [`${exportResource}.${exportName}`]: () => ' 555-0101 ' });
    expect(phone(resource).number(host, 7)).toBe('555-0101');
    expect(host.calls).toEqual([[exportResource, exportName, 7]]);
    const none = fakeHost({ [`${exportResource}.${exportName}`]: () => null });
    expect(phone(resource).number(none, 7)).toBeNull();
    const no = fakeHost({ [`${exportResource}.${exportName}`]: () => false });
    expect(phone(resource).number(no, 7)).toBeNull();
  });

  it('npwd: passes a locator and reads phoneNumber from the promised player data', async () => {
    const host = fakeHost({
      'npwd.getPlayerData': async () => ({ phoneNumber: '555-0102', source: 3 }),
    });
    await expect(phone('npwd').number(host, 3)).resolves.toBe('555-0102');
    expect(host.calls).toEqual([['npwd', 'getPlayerData', { source: 3 }]]);
    const unknown = fakeHost({ 'npwd.getPlayerData': async () => null });
    await expect(phone('npwd').number(unknown, 3)).resolves.toBeNull();
    const empty = fakeHost({ 'npwd.getPlayerData': async () => ({ phoneNumber: '' }) });
    await expect(phone('npwd').number(empty, 3)).resolves.toBeNull();
    const sync = fakeHost({ 'npwd.getPlayerData': () => ({ phoneNumber: '555-0103' }) });
    expect(phone('npwd').number(sync, 3)).toBe('555-0103');
  });

  it('lets a throwing or rejecting export propagate', async () => {
    const boom = new Error('An error occurred while calling export GetEquippedPhoneNumber');
    const host = fakeHost({
      'lb-phone.GetEquippedPhoneNumber': () => {
        throw boom;
      },
      'npwd.getPlayerData': () => Promise.reject(new Error('npwd down')),
    });
    expect(() => phone('lb-phone').number(host, 1)).toThrow(boom);
    await expect(phone('npwd').number(host, 1)).rejects.toThrow('npwd down');
    // qs-smartphone without qs-base: the export is missing, which is a throw too
    expect(() => phone('qs-smartphone').number(fakeHost({}), 1)).toThrow('No such export');
  });

  it('startedPhone: the configured phone when it runs, the first running under auto', () => {
    const host = fakeHost({}, ['yseries', 'gksphone']);
    expect(startedPhone(host, null)).toBeNull();
    expect(startedPhone(host, 'auto')?.resource).toBe('gksphone');
    expect(startedPhone(host, 'yseries')?.resource).toBe('yseries');
    expect(startedPhone(host, 'npwd')).toBeNull();
    expect(startedPhone(host, 'some-phone')).toBeNull();
    expect(startedPhone(fakeHost({}), 'auto')).toBeNull();
  });
});

describe('inventory readers against fakes', () => {
  it('tries ox_inventory, then qb-inventory, then qs-inventory', () => {
    expect(INVENTORIES.map((i) => i.resource)).toEqual([
      'ox_inventory',
      'qb-inventory',
      'qs-inventory',
    ]);
    expect(startedInventory(fakeHost({}))).toBeNull();
    expect(startedInventory(fakeHost({}, ['qs-inventory', 'qb-inventory']))?.resource).toBe(
      'qb-inventory',
    );
    expect(startedInventory(fakeHost({}, ['qb-inventory', 'ox_inventory']))?.resource).toBe(
      'ox_inventory',
    );
  });

  it.each([
    ['ox_inventory', 'GetItemCount'],
    ['qb-inventory', 'GetItemCount'],
    ['qs-inventory', 'GetItemTotalAmount'],
  ])('%s: asks %s(player, item) and reads a count', (resource, exportName) => {
    const answers = [3, 0, null, undefined, -2, 2.7];
    // Nothing answered (no such player loaded) is unknown: null, and the gate lets the call through.
    const expected = [3, 0, null, null, 0, 2];
    answers.forEach((answer, i) => {
      const host = fakeHost({ [`${resource}.${exportName}`]: () => answer });
      expect(inventory(resource).count(host, 4, 'phone'), String(answer)).toBe(expected[i]);
      expect(host.calls).toEqual([[resource, exportName, 4, 'phone']]);
    });
  });

  it('throws on an answer that is no count, and lets a throwing export propagate', () => {
    const odd = fakeHost({ 'ox_inventory.GetItemCount': () => 'lots' });
    expect(() => inventory('ox_inventory').count(odd, 1, 'phone')).toThrow(TypeError);
    const broken = fakeHost({
      'ox_inventory.GetItemCount': () => {
        throw new Error('inventory broken');
      },
      'qb-inventory.GetItemCount': () => {
        throw new Error('An error occurred while calling export GetItemCount');
      },
    });
    expect(() => inventory('ox_inventory').count(broken, 1, 'phone')).toThrow('inventory broken');
    expect(() => inventory('qb-inventory').count(broken, 1, 'phone')).toThrow('An error occurred');
    expect(broken.calls.map((c) => c[1])).toEqual(['GetItemCount', 'GetItemCount']);
  });

  it('qb-inventory 1.x: sums GetItemsByName when GetItemCount does not exist', () => {
    const host = fakeHost({
      'qb-inventory.GetItemsByName': () => [{ amount: 2 }, { amount: 1 }, { name: 'x' }],
    });
    expect(inventory('qb-inventory').count(host, 5, 'phone')).toBe(3);
    expect(host.calls).toEqual([
      ['qb-inventory', 'GetItemCount', 5, 'phone'],
      ['qb-inventory', 'GetItemsByName', 5, 'phone'],
    ]);
    const holes = fakeHost({ 'qb-inventory.GetItemsByName': () => ({ 1: { amount: 4 } }) });
    expect(inventory('qb-inventory').count(holes, 5, 'phone')).toBe(4);
    const none = fakeHost({ 'qb-inventory.GetItemsByName': () => [] });
    expect(inventory('qb-inventory').count(none, 5, 'phone')).toBe(0);
  });
});

describe('stand-ins in the emulator, read through the readers', () => {
  let fx: FxServer;
  let host: FrameworkHost;
  let ann: Player;
  let bob: Player;

  beforeEach(() => {
    fx = new FxServer();
    host = emulatorHost(fx);
    ann = fx.addPlayer({ name: 'Ann Lee', identifiers: ['license:ann'], position: [0, 0, 0] });
    bob = fx.addPlayer({ name: 'Bob Ray', identifiers: ['license:bob'], position: [0, 0, 0] });
  });
  afterEach(() => {
    fx.shutdown();
  });

  describe.each(PHONE_STAND_INS.map((s) => [s.resource, s] as [string, SandboxPhone]))(
    'phone %s',
    (resource, standIn) => {
      it('is found under auto and answers the number it was given', async () => {
        expect(startedPhone(host, 'auto')).toBeNull();
        await standIn.start(fx);
        const reader = startedPhone(host, 'auto');
        expect(reader?.resource).toBe(resource);
        expect(startedPhone(host, resource)).toBe(reader);
        await standIn.setNumber(fx, ann, '555-0142');
        expect(await reader!.number(host, ann.id)).toBe('555-0142');
        // a player without a phone
        expect(await reader!.number(host, bob.id)).toBeNull();
        await standIn.clearNumber(fx, ann);
        expect(await reader!.number(host, ann.id)).toBeNull();
        expect(fx.errors).toEqual([]);
      });

      it('propagates a throwing export', async () => {
        await standIn.start(fx);
        await standIn.setNumber(fx, ann, '555-0142');
        await standIn.breakExports(fx);
        const reader = startedPhone(host, resource)!;
        await expect((async () => reader.number(host, ann.id))()).rejects.toThrow(
          /error occurred while calling export|broken/,
        );
      });
    },
  );

  it('npwd answers through a promise, as an async JS export does', async () => {
    const npwd = PHONE_STAND_INS[0]!;
    await npwd.start(fx);
    await npwd.setNumber(fx, ann, '555-0150');
    const answer = startedPhone(host, 'npwd')!.number(host, ann.id);
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).resolves.toBe('555-0150');
    // the real export's other locators answer the same player data
    const byNumber = (await fx.exportsOf('npwd').getPlayerData!({
      phoneNumber: '555-0150',
    })) as Record<string, unknown>;
    expect(byNumber).toMatchObject({ phoneNumber: '555-0150', source: ann.id, name: 'Ann Lee' });
  });

  it('qs-smartphone reads qs-base, and throws when qs-base is gone', async () => {
    await qsSmartphone.start(fx);
    await qsSmartphone.setNumber(fx, ann, '555-0160');
    const reader = startedPhone(host, 'qs-smartphone')!;
    expect(reader.number(host, ann.id)).toBe('555-0160');
    fx.stopResource('qs-base');
    expect(() => reader.number(host, ann.id)).toThrow('No such export GetPlayerPhone');
  });

  it('prefers npwd over lb-phone under auto when both run', async () => {
    await PHONE_STAND_INS[1]!.start(fx);
    await PHONE_STAND_INS[0]!.start(fx);
    expect(startedPhone(host, 'auto')?.resource).toBe('npwd');
  });

  describe('ox_inventory', () => {
    it('counts a player’s items, lower-casing the name, 0 for the unknown', async () => {
      await oxInventory.start(fx);
      const reader = startedInventory(host)!;
      expect(reader.resource).toBe('ox_inventory');
      expect(reader.count(host, ann.id, 'phone')).toBe(0);
      await oxInventory.give(fx, ann, 'phone', 2);
      await oxInventory.give(fx, ann, 'phone', 1);
      await oxInventory.give(fx, ann, 'radio', 1);
      expect(reader.count(host, ann.id, 'phone')).toBe(3);
      expect(reader.count(host, ann.id, 'Phone')).toBe(3);
      expect(reader.count(host, ann.id, 'nothing_registered')).toBe(0);
      expect(reader.count(host, bob.id, 'phone')).toBe(0);
      expect(fx.exportsOf('ox_inventory').Search!(ann.id, 'count', 'phone')).toBe(3);
      await oxInventory.unload(fx, ann);
      expect(reader.count(host, ann.id, 'phone')).toBe(0);
      expect(fx.exportsOf('ox_inventory').Search!(ann.id, 'count', 'phone')).toBe(false);
      expect(fx.errors).toEqual([]);
    });

    it('propagates a throwing export', async () => {
      await oxInventory.start(fx);
      await oxInventory.breakExports(fx);
      expect(() => startedInventory(host)!.count(host, ann.id, 'phone')).toThrow(
        /error occurred while calling export/,
      );
    });
  });

  describe('qb-inventory', () => {
    it('counts exact names, and nothing (null) for a player qb-core does not have', async () => {
      await qbInventory.start(fx);
      const reader = startedInventory(host)!;
      expect(reader.resource).toBe('qb-inventory');
      await qbInventory.give(fx, ann, 'phone', 1);
      await qbInventory.give(fx, ann, 'phone', 2);
      expect(reader.count(host, ann.id, 'phone')).toBe(3);
      expect(reader.count(host, ann.id, 'Phone')).toBe(0);
      expect(reader.count(host, bob.id, 'phone')).toBeNull();
      // HasItem compares each slot with the amount, not the total (as the real one does)
      expect(fx.exportsOf('qb-inventory').HasItem!(ann.id, 'phone', 2)).toBe(true);
      expect(fx.exportsOf('qb-inventory').HasItem!(ann.id, 'phone', 3)).toBe(false);
      await qbInventory.unload(fx, ann);
      expect(reader.count(host, ann.id, 'phone')).toBeNull();
      expect(fx.errors).toEqual([]);
    });

    it('version 1: falls back to GetItemsByName, whose error for nobody propagates', async () => {
      await qbInventoryV1.start(fx);
      const reader = startedInventory(host)!;
      await qbInventoryV1.give(fx, ann, 'phone', 2);
      await qbInventoryV1.give(fx, ann, 'radio', 1);
      await qbInventoryV1.give(fx, ann, 'phone', 1);
      expect(reader.count(host, ann.id, 'phone')).toBe(3);
      expect(() => reader.count(host, bob.id, 'phone')).toThrow(
        /error occurred while calling export/,
      );
    });

    it('propagates a throwing export', async () => {
      await qbInventory.start(fx);
      await qbInventory.breakExports(fx);
      expect(() => startedInventory(host)!.count(host, ann.id, 'phone')).toThrow(
        /error occurred while calling export/,
      );
    });
  });

  it('reads ox_inventory when both inventories run', async () => {
    const both: SandboxInventory[] = [qbInventory, oxInventory];
    for (const inv of both) await inv.start(fx);
    await qbInventory.give(fx, ann, 'phone', 5);
    await oxInventory.give(fx, ann, 'phone', 1);
    expect(startedInventory(host)!.count(host, ann.id, 'phone')).toBe(1);
  });
});
