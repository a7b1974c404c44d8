/**
 * ox_core, read from another resource's server side.
 *
 * Followed: overextended/ox_core b45605ef:
 * - `server/classInterface.ts`: exports `GetPlayer(id)` (the OxPlayer instance, which
 *   crosses as its own public fields only: source, userId, charId, stateId, username,
 *   identifier, ped) and `CallPlayer(id, method, ...args)` (logs and answers nothing for an
 *   unknown id or method).
 * - `server/player/class.ts`: `charId` is set only while a character is active;
 *   `get(key)` reads the character's metadata, where `setActiveCharacter` puts `firstName`,
 *   `lastName`, `phoneNumber` and `activeGroup` (a group name, or nothing). Groups have an
 *   optional free-form `type` (`types/index.ts`, `sql/install.sql`), but no export answers
 *   it, and nothing in ox_core knows duty: type and onDuty are null.
 *   Events (local): `ox:playerLoaded(source, userId, charId)`,
 *   `ox:playerLogout(source, userId, charId)`, `ox:setActiveGroup(source, group, previous)`,
 *   `ox:setGroup(source, group, grade | null)` (removing the active group clears
 *   activeGroup without ox:setActiveGroup).
 * - `server/player/events.ts`: `Player(src).state.isDead` (replicated) from the client's
 *   `ox:playerDeath` / `ox:playerRevived`, txAdmin heals, and the character load.
 * ox_core has no inventory of its own (ox_inventory is asked) and tracks no handcuffs.
 */

import { phoneNumberOf as phone } from './phones';
import type { Character, FrameworkAdapter, FrameworkHost, RefreshEvent } from './types';
import { isDict, playerId, text } from './values';

const RESOURCE = 'ox_core';

export function oxAdapter(host: FrameworkHost): FrameworkAdapter {
  const get = (player: number, key: string): unknown =>
    host.call(RESOURCE, 'CallPlayer', player, 'get', key);

  const read = (player: number): Character | null => {
    const oxPlayer = host.call(RESOURCE, 'GetPlayer', player);
    // No OxPlayer (not joined), or no active character (character selection).
    if (!isDict(oxPlayer) || oxPlayer.charId === null || oxPlayer.charId === undefined) return null;
    const group = text(get(player, 'activeGroup'));
    return {
      firstName: text(get(player, 'firstName')),
      lastName: text(get(player, 'lastName')),
      phone: phone(get(player, 'phoneNumber')),
      job: group === null ? null : { name: group, type: null, onDuty: null },
      dead: host.playerState(player, 'isDead') === true,
      lastStand: false,
      cuffed: false,
    };
  };

  const byFirstArgument = (_source: unknown, args: readonly unknown[]) => playerId(args[0]);
  const events: RefreshEvent[] = [
    { event: 'ox:playerLoaded', player: byFirstArgument },
    { event: 'ox:setActiveGroup', player: byFirstArgument },
    { event: 'ox:setGroup', player: byFirstArgument },
    { event: 'ox:playerLogout', player: byFirstArgument, unload: true },
  ];

  return { name: 'ox', resource: RESOURCE, read, events, itemCount: () => null };
}
