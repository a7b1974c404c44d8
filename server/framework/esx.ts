/**
 * ESX Legacy (es_extended), read from another resource's server side.
 *
 * Followed: esx-framework/esx_core c0260923 (es_extended 1.13.5):
 * - `[core]/es_extended/server/classes/player.lua`: export `RunStaticPlayerMethod(src,
 *   method, ...)` (added in df287b04, first in 1.13.0) answers nothing when the player has
 *   no xPlayer yet and raises for a name that is not a method. Methods used: `getJob()`
 *   (`{ name, type, onDuty, grade, ... }`), `get('firstName')` / `get('lastName')` (the
 *   player's `variables`, set from the identity at load in `server/main.lua` or later by
 *   esx_identity's SetPlayerData, with no event), `getMeta()` (the metadata table),
 *   `getInventoryItem(name)` (`{ name, count, ... }` or nil; ox_inventory's override in
 *   `server/classes/overrides/oxinventory.lua` answers the same shape).
 * - `server/main.lua`: `esx:playerLoaded(playerId, xPlayer, isNew)`,
 *   `esx:playerDropped(playerId, reason)`, `esx:playerLogout(playerId, cb)` (which also
 *   fires esx:playerDropped); `player.lua`: `esx:setJob(playerId, job, lastJob)`; all
 *   local events, so the player is the first argument, never `source`.
 * - esx-framework/esx_ambulancejob 5ec088ee `server/main.lua`: `Player(src).state.isDead`
 *   (replicated) set on death, revive, respawn and drop. ND-Framework/ND_Ambulance 889b9db9
 *   (`bridge/framework/esx/server.lua`) keeps it in the xPlayer's metadata instead:
 *   `setMeta('isDead', true|false)`, read here through `getMeta()` (the whole table, since
 *   `getMeta(key)` raises for a missing key under `Config.EnableDebug`). The core has no
 *   phone number and no handcuff state (esx_policejob b3b729fe only relays the handcuff to
 *   the client).
 *
 * Older ESX (before 1.13.0) lacks RunStaticPlayerMethod: "No such export" from it switches
 * to `getSharedObject().GetPlayerFromId(src)`, whose answer is a copy of the xPlayer (its
 * closures arrive as function references), kept until that reference fails.
 */
import type { Character, FrameworkAdapter, FrameworkHost, Job, RefreshEvent } from './types';
import { type Dict, isDict, playerId, text } from './values';

const RESOURCE = 'es_extended';

type Fn = (...args: unknown[]) => unknown;

const count = (v: unknown): number =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;

function job(raw: unknown): Job | null {
  if (!isDict(raw)) return null;
  const name = text(raw.name);
  if (name === null) return null;
  return {
    name,
    type: text(raw.type),
    onDuty: typeof raw.onDuty === 'boolean' ? raw.onDuty : null,
  };
}

const missingStatic = (error: unknown): boolean =>
  error instanceof Error && /No such export RunStaticPlayerMethod\b/.test(error.message);

export function esxAdapter(host: FrameworkHost): FrameworkAdapter {
  /** null: not known yet; true: RunStaticPlayerMethod; false: the shared object. */
  let modern: boolean | null = null;
  let getPlayerFromId: Fn | null = null;

  const staticCall = (player: number, method: string, ...args: unknown[]): unknown =>
    host.call(RESOURCE, 'RunStaticPlayerMethod', player, method, ...args);

  /** The old way: the xPlayer copy, or null when the player has none. */
  const legacyPlayer = (player: number): Dict | null => {
    try {
      if (!getPlayerFromId) {
        const esx = host.call(RESOURCE, 'getSharedObject');
        const fn = isDict(esx) ? esx.GetPlayerFromId : undefined;
        if (typeof fn !== 'function') throw new Error(`${RESOURCE}: no GetPlayerFromId`);
        getPlayerFromId = fn as Fn;
      }
      const xPlayer = getPlayerFromId(player);
      return isDict(xPlayer) ? xPlayer : null;
    } catch (error) {
      // Stopped, or a reference from before a restart: ask again, the newer export first.
      getPlayerFromId = null;
      modern = null;
      throw error;
    }
  };

  /**
   * The first call of a read: the player's job through RunStaticPlayerMethod where ESX has
   * it; `{ legacy }` where it does not.
   */
  const first = (player: number): { job: unknown } | { legacy: Dict | null } => {
    if (modern !== false) {
      try {
        const answer = staticCall(player, 'getJob');
        modern = true;
        return { job: answer };
      } catch (error) {
        if (!missingStatic(error)) throw error;
        modern = false;
      }
    }
    return { legacy: legacyPlayer(player) };
  };

  const dead = (player: number): boolean => host.playerState(player, 'isDead') === true;

  const read = (player: number): Character | null => {
    const start = first(player);
    let firstName: unknown;
    let lastName: unknown;
    let rawJob: unknown;
    let metadata: unknown;
    if ('job' in start) {
      // A loaded player always has a job table; nothing means no xPlayer yet.
      if (!isDict(start.job)) return null;
      rawJob = start.job;
      firstName = staticCall(player, 'get', 'firstName');
      lastName = staticCall(player, 'get', 'lastName');
      // The whole table: getMeta('isDead') raises for a missing key when ESX debugs.
      metadata = staticCall(player, 'getMeta');
    } else {
      const xPlayer = start.legacy;
      if (!xPlayer) return null;
      rawJob = xPlayer.job;
      const variables = isDict(xPlayer.variables) ? xPlayer.variables : {};
      firstName = variables.firstName;
      lastName = variables.lastName;
      metadata = xPlayer.metadata;
    }
    return {
      firstName: text(firstName),
      lastName: text(lastName),
      phone: null,
      job: job(rawJob),
      dead: dead(player) || (isDict(metadata) && metadata.isDead === true),
      lastStand: false,
      cuffed: false,
    };
  };

  const itemCount = (player: number, item: string): number | null => {
    if (modern !== false) {
      try {
        // Nothing: no such item, or no xPlayer yet. Unknown, so the gate lets the call through.
        const found = staticCall(player, 'getInventoryItem', item);
        modern = true;
        return isDict(found) ? count(found.count) : null;
      } catch (error) {
        if (!missingStatic(error)) throw error;
        modern = false;
      }
    }
    const xPlayer = legacyPlayer(player);
    if (!xPlayer) return null;
    if (typeof xPlayer.getInventoryItem === 'function') {
      const found = (xPlayer.getInventoryItem as Fn)(item);
      return isDict(found) ? count(found.count) : null;
    }
    const inventory = Array.isArray(xPlayer.inventory) ? xPlayer.inventory : [];
    const entry = inventory.find((e) => isDict(e) && e.name === item);
    return isDict(entry) ? count(entry.count) : null;
  };

  const byFirstArgument = (_source: unknown, args: readonly unknown[]) => playerId(args[0]);
  const events: RefreshEvent[] = [
    { event: 'esx:playerLoaded', player: byFirstArgument },
    { event: 'esx:setJob', player: byFirstArgument },
    { event: 'esx:playerDropped', player: byFirstArgument, unload: true },
    { event: 'esx:playerLogout', player: byFirstArgument, unload: true },
  ];

  return { name: 'esx', resource: RESOURCE, read, events, itemCount };
}
