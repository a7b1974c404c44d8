/**
 * ND_Core, read from another resource's server side.
 *
 * Followed: ND-Framework/ND_Core 0e6caf79 (version 2.3.2):
 * - `server/functions.lua`: every `NDCore.*` function is an export; `getPlayer(src)`
 *   answers the active character table (closures cross as function references) or nothing.
 * - `server/player.lua` (`createCharacterTable`): fields `source`, `firstname`, `lastname`,
 *   `fullname`, `phonenumber`, `job` (the job group's name, or nil), `jobInfo`
 *   (`{ name, label, rankName, rank, isJob, isBoss, metadata }`), `metadata`. Groups have
 *   no type and ND has no duty flag: type and onDuty are null.
 *   Events (local): `ND:characterLoaded(character)`, `ND:characterUnloaded(source,
 *   character)`, `ND:updateCharacter(character, key)` (setData, setMetadata, setJob with key
 *   "job", group changes with "groups", licenses with "metadata").
 * - `server/main.lua`: `ND:playerEliminated` (from the client's death, `client/death.lua`)
 *   sets `metadata.dead = true`; `revive()` in player.lua sets it back to false.
 * - ND-Framework/ND_Police a8a1d6f2 `client/cuff.lua`: the cuffed player's client sets its own
 *   `Player(src).state.isCuffed` (replicated), so the server reads it from the state bag.
 * ND_Core's inventory is ox_inventory's (asked elsewhere).
 */

import { phoneNumberOf as phone } from './phones';
import type { Character, FrameworkAdapter, FrameworkHost, Job, RefreshEvent } from './types';
import { type Dict, isDict, playerId, text } from './values';

const RESOURCE = 'ND_Core';

function job(character: Dict): Job | null {
  const info = isDict(character.jobInfo) ? character.jobInfo : null;
  const name = text(character.job) ?? text(info?.name);
  return name === null ? null : { name, type: null, onDuty: null };
}

export function ndAdapter(host: FrameworkHost): FrameworkAdapter {
  const read = (player: number): Character | null => {
    const character = host.call(RESOURCE, 'getPlayer', player);
    if (!isDict(character)) return null;
    const metadata = isDict(character.metadata) ? character.metadata : {};
    return {
      firstName: text(character.firstname),
      lastName: text(character.lastname),
      phone: phone(character.phonenumber),
      job: job(character),
      dead: metadata.dead === true,
      lastStand: false,
      cuffed: host.playerState(player, 'isCuffed') === true,
    };
  };

  /** The character table's `source`. */
  const ofCharacter = (_source: unknown, args: readonly unknown[]) => {
    const character = args[0];
    return isDict(character) ? playerId(character.source) : null;
  };
  const events: RefreshEvent[] = [
    { event: 'ND:characterLoaded', player: ofCharacter },
    { event: 'ND:updateCharacter', player: ofCharacter },
    {
      event: 'ND:characterUnloaded',
      player: (_source, args) => playerId(args[0]),
      unload: true,
    },
  ];

  return { name: 'nd', resource: RESOURCE, read, events, itemCount: () => null };
}
