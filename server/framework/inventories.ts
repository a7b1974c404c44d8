/**
 * How many of an item a player carries, from the inventory resource the server runs: the
 * per-command `phoneItem` gate (the caller must carry a phone) reads it.
 *
 * Each inventory's server export, as its source or its vendor's documentation names it
 * (checked 2026-11):
 * - ox_inventory (source, overextended/ox_inventory 83029c6, modules/inventory/server.lua):
 *   `GetItemCount(inv, itemName, metadata?, strict?)` → a number; 0 for an unknown item
 *   or an inventory that is not loaded. The item name is lower-cased (weapons upper-cased).
 * - qb-inventory (source, qbcore-framework/qb-inventory 43334c1, server/functions.lua):
 *   `GetItemCount(source, items)` → a number, nil when qb-core has no such player; the name
 *   must match exactly. Added in 2.0.0 (7ef6bd8, 2024-05); before it, `GetItemsByName(source,
 *   item)` → a list of slots with `amount` (it errors for an unknown player).
 * - qs-inventory (closed; vendor docs docs.quasar-store.com, inventory server exports):
 *   `GetItemTotalAmount(source, item)` → the total amount.
 */
import type { FrameworkHost } from './types';

export interface InventorySource {
  resource: string;
  /**
   * How many of `item` the player carries; null when the inventory answers nothing (no such
   * player loaded, say after a restart): unknown, so the gate lets the call through rather
   * than refuse a player who may well carry a phone. Throws as the export does, or when the
   * answer is no count at all.
   */
  count(host: FrameworkHost, player: number, item: string): number | null;
}

function countOf(resource: string, value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${resource} answered ${typeof value} for an item count`);
  }
  return value > 0 ? Math.floor(Math.min(value, Number.MAX_SAFE_INTEGER)) : 0;
}

/** FXServer's message for an export the resource does not define (citizen's main.js). */
function isMissingExport(error: unknown, name: string): boolean {
  return error instanceof Error && error.message.includes(`No such export ${name} `);
}

/** The sum of `amount` over qb-inventory 1.x's GetItemsByName slots. */
function slotTotal(resource: string, value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const slots = Array.isArray(value)
    ? value
    : typeof value === 'object'
      ? Object.values(value) // a Lua list with holes arrives as a map
      : null;
  if (!slots) throw new TypeError(`${resource} answered ${typeof value} for item slots`);
  let total = 0;
  for (const slot of slots) {
    const amount = (slot as { amount?: unknown } | null)?.amount;
    if (typeof amount === 'number' && amount > 0) total += amount;
  }
  return countOf(resource, total);
}

export const INVENTORIES: readonly InventorySource[] = [
  {
    resource: 'ox_inventory',
    count: (host, player, item) =>
      countOf('ox_inventory', host.call('ox_inventory', 'GetItemCount', player, item)),
  },
  {
    resource: 'qb-inventory',
    count(host, player, item) {
      try {
        return countOf('qb-inventory', host.call('qb-inventory', 'GetItemCount', player, item));
      } catch (error) {
        if (!isMissingExport(error, 'GetItemCount')) throw error;
      }
      return slotTotal('qb-inventory', host.call('qb-inventory', 'GetItemsByName', player, item));
    },
  },
  {
    resource: 'qs-inventory',
    count: (host, player, item) =>
      countOf('qs-inventory', host.call('qs-inventory', 'GetItemTotalAmount', player, item)),
  },
];

/** The first of INVENTORIES that runs; null when none does. */
export function startedInventory(host: FrameworkHost): InventorySource | null {
  return INVENTORIES.find((inv) => host.resourceState(inv.resource) === 'started') ?? null;
}
