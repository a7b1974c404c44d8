/**
 * QBCore (qb-core). Each read is one call of `exports['qb-core']:GetPlayer(src)` (qb-core
 * 37d3b84 server/player.lua: PlayerData, Functions and each method again at the top level;
 * before that, QBCore.Functions.GetPlayer exported by the loop at the end of
 * server/functions.lua: PlayerData, Offline, Functions). qb-core has no narrower export.
 *
 * Death: qb-ambulancejob 9d01cc9 (server/main.lua) sets the metadata `isdead` and
 * `inlaststand`; handcuffs: qb-policejob 1dd3228 (server/main.lua) sets `ishandcuffed`.
 * Items are qb-inventory's, read by its own reader in inventories.ts.
 *
 * A Qbox server provides 'qb-core' too: choose this adapter only when qbx_core is not started.
 */
import { argAt, readQbPlayer, sharedEvents, toCharacter } from './qb-like';
import type { Character, FrameworkAdapter, FrameworkHost } from './types';

const RESOURCE = 'qb-core';

export function qbAdapter(host: FrameworkHost): FrameworkAdapter {
  return {
    name: 'qb',
    resource: RESOURCE,
    read(player: number): Character | null {
      const data = readQbPlayer(host, RESOURCE, player);
      return data ? toCharacter(data) : null;
    },
    events: [
      ...sharedEvents,
      // Since April 2026 every change goes through
      // TriggerEvent('QBCore:Server:OnPlayerUpdated', source, key, value).
      { event: 'QBCore:Server:OnPlayerUpdated', player: argAt(0) },
      // playerDropped: TriggerEvent('QBCore:Server:PlayerDropped', source), then OnPlayerUnload.
      { event: 'QBCore:Server:PlayerDropped', player: argAt(0), unload: true },
    ],
  };
}
