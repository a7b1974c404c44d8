/**
 * Qbox (qbx_core). Each read is one call of `exports.qbx_core:GetPlayer(src)`: qbx_core has
 * no narrower export that holds charinfo and job (GetPlayersData copies every player, and
 * GetMetadata answers one metadata key). Its qb-core compatibility layer is not used.
 *
 * Death: qbx_medical 30ca85a (server/main.lua) copies its state bag
 * `qbx_medical:deathState` (1 alive, 2 last stand, 3 dead; shared/main.lua, config/shared.lua)
 * into the metadata `isdead`/`inlaststand` and sets the state bag `isDead` (true in last stand
 * too). The bags are read beside the metadata, since the client writes the death state first.
 * Handcuffs: qbx_police 725d770 (server/main.lua) sets the metadata `ishandcuffed`.
 * Inventory: Qbox requires ox_inventory (qbx_core server/player.lua, Save), asked elsewhere.
 */
import { argAt, readQbPlayer, sharedEvents, toCharacter } from './qb-like';
import type { Character, FrameworkAdapter, FrameworkHost } from './types';

const RESOURCE = 'qbx_core';
const DEATH_STATE_BAG = 'qbx_medical:deathState';
const LAST_STAND = 2;
const DEAD = 3;

export function qbxAdapter(host: FrameworkHost): FrameworkAdapter {
  return {
    name: 'qbx',
    resource: RESOURCE,
    read(player: number): Character | null {
      const data = readQbPlayer(host, RESOURCE, player);
      if (!data) return null;
      const character = toCharacter(data);
      const deathState = host.playerState(player, DEATH_STATE_BAG);
      if (deathState === DEAD) character.dead = true;
      else if (deathState === LAST_STAND) character.lastStand = true;
      else if (
        typeof deathState !== 'number' &&
        host.playerState(player, 'isDead') === true &&
        !character.lastStand
      ) {
        // isDead without qbx_medical's own bag: another medical resource; call it dead.
        character.dead = true;
      }
      return character;
    },
    events: [
      ...sharedEvents,
      // TriggerEvent('qbx_core:server:onSetMetaData', key, oldValue, newValue, source)
      { event: 'qbx_core:server:onSetMetaData', player: argAt(3) },
      // TriggerEvent('qbx_core:server:onGroupUpdate', source, jobName, grade?): a job held
      // or dropped (dropping the primary job makes the player unemployed without OnJobUpdate).
      { event: 'qbx_core:server:onGroupUpdate', player: argAt(0) },
      // Logout: after OnPlayerUnload and the player's removal.
      { event: 'qbx_core:server:playerLoggedOut', player: argAt(0), unload: true },
    ],
  };
}
