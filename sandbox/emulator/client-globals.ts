// The game client runtime: plain V8 with Cfx timers, events, exports and game natives.
// Deliberately no fetch/require/process/DOM: the real client has none, so using them
// fails here too.
import type { Globals } from './common-globals';
import { joaat } from './common-globals';
import type { ScriptContext } from './context';
import type { Player } from './player';
import { parseConvarInt } from './server-globals';

/** The local player's index on the client (what PlayerId() returns under OneSync). */
export const LOCAL_PLAYER_INDEX = 128;

export function clientGlobals(ctx: ScriptContext, player: Player): Globals {
  const k = ctx.kernel;
  const emitNet = (name: unknown, ...args: unknown[]) => {
    if (ctx.alive) k.events.sendToServer(player, String(name), args);
  };
  const isLocal = (playerIndex: unknown) =>
    playerIndex === -1 || Number(playerIndex) === LOCAL_PLAYER_INDEX;
  const view = () => player.clientPosition ?? player.position;
  const nameHash = (name: string) => {
    if (name === '') return 0;
    const hash = joaat(name);
    k.hashNames.set(hash, name);
    return hash;
  };
  return {
    emitNet,
    TriggerServerEvent: emitNet,
    TriggerLatentServerEvent: (name: unknown, _bps: unknown, ...args: unknown[]) =>
      emitNet(name, ...args),
    ExecuteCommand: (line: unknown) => {
      if (ctx.alive) k.commands.runPlayerCommand(player, String(line));
    },
    GetConvar: (name: unknown, def: unknown) => k.readReplicatedConvar(String(name)) ?? def,
    GetConvarInt: (name: unknown, def: unknown) =>
      parseConvarInt(k.readReplicatedConvar(String(name))) ?? def,
    PlayerId: () => LOCAL_PLAYER_INDEX,
    PlayerPedId: () => player.clientPed,
    GetPlayerPed: (index: unknown) => (isLocal(index) ? player.clientPed : 0),
    GetPlayerServerId: (index: unknown) => (isLocal(index) ? player.id : 0),
    GetPlayerName: (index: unknown) => (isLocal(index) ? player.name : '**Invalid**'),
    GetEntityCoords: (ped: unknown, _alive?: unknown) =>
      ctx.realm.Array.from(Number(ped) === player.clientPed ? view() : [0, 0, 0]),
    GetEntityHeading: (ped: unknown) => (Number(ped) === player.clientPed ? player.heading : 0),
    // Street and zone come from the player's setup, whatever coordinates are asked about:
    // the emulator has no map.
    GetStreetNameAtCoord: (_x: unknown, _y: unknown, _z: unknown) =>
      ctx.realm.Array.of(nameHash(player.street), nameHash(player.crossing)),
    GetStreetNameFromHashKey: (hash: unknown) => k.hashNames.get(Number(hash) >>> 0) ?? '',
    GetNameOfZone: (_x: unknown, _y: unknown, _z: unknown) => {
      k.zoneLabels.set(player.zone.code, player.zone.label);
      return player.zone.code;
    },
    GetLabelText: (code: unknown) => k.zoneLabels.get(String(code)) ?? 'NULL',
    // A client holds no ACEs from server.cfg: only what unrestricted client commands granted
    // to everyone (ResourceScriptFunctions.cpp, REGISTER_COMMAND adds builtin.everyone).
    IsAceAllowed: (ace: unknown) => k.commands.client(player).everyoneMay(String(ace)),
    GetGameTimer: () => Math.floor(performance.now() - k.startedAt),
  };
}
