/**
 * Stand-ins for the inventory resources server/framework/inventories.ts reads, each a Lua
 * resource (as the real ones are) answering the export names, arguments and shapes of the
 * real one. Tests and the sandbox drive them only through `sandbox_` exports.
 *
 * What each one follows (read 2026-11):
 * - ox_inventory: github.com/overextended/ox_inventory at
 *   83029c69e0028213f2147ce5c2e4499c91cb0cbb, modules/inventory/server.lua
 *   (`GetItemCount(inv, itemName, metadata, strict)`: 0 when the inventory is not loaded or
 *   the item is not registered, else the sum of the matching slots' counts;
 *   `Search(inv, 'count' | 2, items)`: one item name → its count, looked up by the name
 *   as given in a map keyed by lower-cased names; several → that map; false without an
 *   inventory) and modules/items/server.lua (item names are lower-cased,
 *   `weapon_` names upper-cased, before the item list is consulted). Metadata filters are
 *   not modelled.
 * - qb-inventory: github.com/qbcore-framework/qb-inventory at
 *   43334c18c341a70835bc5cb5c386dc6cf2979cd3, server/functions.lua (`GetItemCount(source,
 *   items)`: nil when qb-core has no such player, else the sum of `amount` over slots whose
 *   name equals the item exactly, or is one of a list; `HasItem(source, items, amount)`:
 *   false without a player; `GetItemsByName(source, item)`: the lower-cased item's slots).
 *   Version 1 (before 7ef6bd8, 2024-05-20, server/main.lua) had no GetItemCount, and its
 *   GetItemsByName indexed the player without checking it: `qbInventoryV1` models that.
 *   The real one keeps the slots in qb-core's PlayerData.items; the stand-in keeps its own.
 */
import type { FxServer, Player } from '../emulator';
import { startLua } from './drive';
import type { InventoryStandIn } from './types';

export interface SandboxInventory extends InventoryStandIn {
  /** The player's character is gone (qb-core: no Player; ox: no inventory loaded). */
  unload(fx: FxServer, player: Player): Promise<void>;
  /** From now on the count exports throw, as a broken update would. */
  breakExports(fx: FxServer): Promise<void>;
}

const OX_INVENTORY = `
local known = { phone = true, radio = true, water = true, bandage = true }
local inventories = {}
local broken = false

local function itemName(name)
  if type(name) ~= 'string' then return nil end
  name = name:lower()
  if name:sub(1, 7) == 'weapon_' then name = name:upper() end
  return name
end

local function countIn(inv, name)
  local total = 0
  for _, slot in pairs(inv) do
    if slot.name == name then total = total + slot.count end
  end
  return total
end

exports('GetItemCount', function(inv, name, metadata, strict)
  if broken then error('ox_inventory stand-in: broken') end
  local inventory = inventories[tonumber(inv)]
  name = itemName(name)
  if not inventory or not name or not known[name] then return 0 end
  return countIn(inventory, name)
end)

exports('Search', function(inv, search, items, metadata)
  if broken then error('ox_inventory stand-in: broken') end
  if not items then return false end
  local inventory = inventories[tonumber(inv)]
  if not inventory then return false end
  if search ~= 'count' and search ~= 2 then return false end
  if type(items) == 'string' then items = { items } end
  local found = {}
  for i = 1, #items do
    local name = itemName(items[i])
    if name then found[name] = countIn(inventory, name) end
  end
  -- keyed by the lower-cased name, but one item is looked up as given (as the real one does)
  if #items == 1 then return found[items[1]] end
  return found
end)

exports('sandbox_give', function(source, name, count)
  source = tonumber(source)
  name = itemName(name)
  known[name] = true
  local inventory = inventories[source] or {}
  inventories[source] = inventory
  inventory[#inventory + 1] = { slot = #inventory + 1, name = name, count = count }
end)
exports('sandbox_unload', function(source)
  inventories[tonumber(source)] = nil
end)
exports('sandbox_break', function()
  broken = true
end)
`;

function qbInventorySource(version: 1 | 2): string {
  return `
local players = {}
local broken = false

-- players[source] = { items = { { slot, name, amount, info }, ... } }, as PlayerData.items
local function slotsOf(source)
  local player = players[tonumber(source)]
  return player and player.items
end

${
  version === 2
    ? `
exports('GetItemCount', function(source, items)
  if broken then error('qb-inventory stand-in: broken') end
  local slots = slotsOf(source)
  if not slots then return nil end
  local wanted = {}
  if type(items) == 'table' then
    for _, name in pairs(items) do wanted[name] = true end
  else
    wanted[items] = true
  end
  local count = 0
  for _, slot in pairs(slots) do
    if wanted[slot.name] then count = count + slot.amount end
  end
  return count
end)

exports('GetItemsByName', function(source, item)
  local slots = slotsOf(source)
  if not slots then return nil end
  item = tostring(item):lower()
  local found = {}
  for _, slot in pairs(slots) do
    if slot.name == item then found[#found + 1] = slot end
  end
  return found
end)
`
    : `
exports('GetItemsByName', function(source, item)
  if broken then error('qb-inventory stand-in: broken') end
  local player = players[tonumber(source)]
  item = tostring(item):lower()
  local found = {}
  -- version 1 indexed the player's items without checking the player: an error for nobody
  for _, slot in pairs(player.items) do
    if slot.name == item then found[#found + 1] = slot end
  end
  return found
end)
`
}

exports('HasItem', function(source, items, amount)
  if broken then error('qb-inventory stand-in: broken') end
  local slots = slotsOf(source)
  if not slots then return false end
  if type(items) ~= 'string' then return false end
  for _, slot in pairs(slots) do
    if slot.name == items and (not amount or slot.amount >= amount) then return true end
  end
  return false
end)

exports('sandbox_give', function(source, name, count)
  source = tonumber(source)
  local player = players[source] or { items = {} }
  players[source] = player
  local slots = player.items
  slots[#slots + 1] = { slot = #slots + 1, name = name, amount = count, info = {} }
end)
exports('sandbox_unload', function(source)
  players[tonumber(source)] = nil
end)
exports('sandbox_break', function()
  broken = true
end)
`;
}

function standIn(resource: string, lua: string): SandboxInventory {
  const drive = (fx: FxServer, name: string, ...args: unknown[]) => {
    fx.exportsOf(resource)[name]!(...args);
    return Promise.resolve();
  };
  return {
    resource,
    async start(fx) {
      await startLua(fx, resource, lua);
    },
    give: (fx, player, item, count) => drive(fx, 'sandbox_give', player.id, item, count),
    unload: (fx, player) => drive(fx, 'sandbox_unload', player.id),
    breakExports: (fx) => drive(fx, 'sandbox_break'),
  };
}

export const oxInventory: SandboxInventory = standIn('ox_inventory', OX_INVENTORY);
export const qbInventory: SandboxInventory = standIn('qb-inventory', qbInventorySource(2));
/** qb-inventory before 2.0.0: no GetItemCount export. */
export const qbInventoryV1: SandboxInventory = standIn('qb-inventory', qbInventorySource(1));
