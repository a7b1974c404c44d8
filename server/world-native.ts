/**
 * The World interface on FXServer's natives: the only file that reads them, so the rest of
 * the server (and its unit tests, which have no FiveM typings) sees plain values.
 */
import type { World } from './world';

export const nativeWorld: World = {
  resourceName: () => GetCurrentResourceName(),
  loadFile: (resource, path) => LoadResourceFile(resource, path) ?? null,
  resourceState: (resource) => GetResourceState(resource),
  resourceMetadata: (resource, key) => GetResourceMetadata(resource, key, 0) || null,
  convar: (name) => GetConvar(name, ''),
  playerExists: (player) => !!GetPlayerName(String(player)),
  playerName: (player) => GetPlayerName(String(player)) ?? `player ${player}`,
  identifiers: (player) => getPlayerIdentifiers(String(player)) ?? [],
  position: (player) => {
    const ped = GetPlayerPed(String(player));
    // GetPlayerPed keeps answering the handle of a ped that is gone (model change, respawn),
    // and server GetEntityCoords throws "Tried to access invalid entity" on it
    // (citizenfx/fivem ServerGameState_Scripting.cpp, makeEntityFunction). Never let that
    // reach a caller: no trusted position is the answer.
    if (!ped || !DoesEntityExist(ped)) return null;
    let coords: number[];
    try {
      coords = GetEntityCoords(ped) ?? [];
    } catch {
      return null;
    }
    const [x = 0, y = 0, z = 0] = coords;
    // Without OneSync (or before the ped streams in) the server reads the origin.
    if (x === 0 && y === 0 && z === 0) return null;
    return { x, y, z };
  },
  aceAllowed: (player, ace) => IsPlayerAceAllowed(String(player), ace),
};
