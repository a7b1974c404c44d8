/**
 * The framework, phone and inventory this server runs, chosen once at start, and the host
 * that reaches them through FXServer's natives.
 */
import type { Config } from '../../shared/config/schema';
import { chooseFramework, type FrameworkChoice } from './detect';
import { esxAdapter } from './esx';
import { type InventorySource, startedInventory } from './inventories';
import { ndAdapter } from './nd';
import { oxAdapter } from './ox';
import { type PhoneSource, startedPhone } from './phones';
import { qbAdapter } from './qb';
import { qbxAdapter } from './qbx';
import type { FrameworkAdapter, FrameworkHost, FrameworkName } from './types';

export const ADAPTERS: Record<FrameworkName, (host: FrameworkHost) => FrameworkAdapter> = {
  qbx: qbxAdapter,
  qb: qbAdapter,
  esx: esxAdapter,
  ox: oxAdapter,
  nd: ndAdapter,
};

export interface Surroundings {
  choice: FrameworkChoice;
  adapter: FrameworkAdapter | null;
  phone: PhoneSource | null;
  inventory: InventorySource | null;
}

/** What this server runs beside us, as config.json asks or as found started. */
export function surroundings(
  host: FrameworkHost,
  config: Pick<Config, 'framework' | 'phone'>,
): Surroundings {
  const choice = chooseFramework(config.framework, host.resourceState);
  return {
    choice,
    adapter: choice.name ? ADAPTERS[choice.name](host) : null,
    phone: startedPhone(host, config.phone),
    inventory: startedInventory(host),
  };
}

/** The ready line's words for it: "framework qbx (detected: ...), phone npwd". */
export function describeSurroundings(s: Surroundings): string {
  const framework = s.choice.name
    ? `framework ${s.choice.name} (${s.choice.how})`
    : `no framework (${s.choice.how})`;
  const phone = s.phone ? `, phone ${s.phone.resource}` : '';
  const inventory = s.inventory ? `, inventory ${s.inventory.resource}` : '';
  return `${framework}${phone}${inventory}`;
}

/** Another resource's exports and state bags, as FXServer's JS runtime reaches them. */
export const nativeFrameworkHost: FrameworkHost = {
  resourceState: (resource) => GetResourceState(resource),
  call(resource, name, ...args) {
    const table = (
      globalThis as unknown as {
        exports: Record<string, Record<string, (...a: unknown[]) => unknown>>;
      }
    ).exports;
    // Looked up on each call: a restarted provider answers through its new references.
    return table[resource]![name]!(...args);
  },
  playerState: (player, key) => (Player(player).state as Record<string, unknown>)[key],
};
