// The game client runtime: plain V8 with Cfx timers, events, exports and game natives.
// Deliberately no fetch/require/process/DOM: the real client has none, so using them
// fails here too.
import type { Globals } from './common-globals';
import { joaat } from './common-globals';
import type { ScriptContext } from './context';
import type { Player } from './player';
import { parseConvarInt } from './server-globals';
import { clientStateBagGlobals } from './statebags';
import type { Blip } from './types';

/** The local player's index on the client (what PlayerId() returns under OneSync). */
export const LOCAL_PLAYER_INDEX = 128;

/** The last blip handle given out on each client (handles are never reused here). */
const lastBlipHandle = new WeakMap<Player, number>();

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
    ...blipGlobals(ctx, player),
    ...clientStateBagGlobals(ctx, player),
  };
}

/**
 * Map blips. Each belongs to the resource whose script created it: every resource runs its
 * natives on its own script thread with its own game script handler, which holds the
 * blips it made (CScriptResource_RadarBlip) and is cleaned up when the resource stops
 * (citizen-resources-gta ResourceMissionCleanup.cpp, rage-scripting-five scrThread.cpp
 * DetachScriptHandler); see Kernel.teardown. Natives on a handle that is no blip do nothing.
 */
function blipGlobals(ctx: ScriptContext, player: Player): Globals {
  const blips = player.blipTable;
  const blip = (handle: unknown) => blips.get(Number(handle));
  const setter =
    <K extends 'sprite' | 'colour' | 'scale' | 'shortRange' | 'flashes' | 'route'>(
      field: K,
      convert: (v: unknown) => Blip[K],
    ) =>
    (handle: unknown, value: unknown) => {
      const b = blip(handle);
      if (b) b[field] = convert(value);
    };
  const int = (v: unknown) => Math.trunc(Number(v)) | 0;
  const bool = (v: unknown) => v === true || v === 1;
  // The text command being built (BEGIN_TEXT_COMMAND_SET_BLIP_NAME ... END_...).
  let text: { label: string; parts: string[] } | null = null;
  const addText = (s: unknown) => {
    text?.parts.push(String(s));
  };
  return {
    AddBlipForCoord: (x: unknown, y: unknown, z: unknown) => {
      if (!ctx.alive) return 0;
      const handle = (lastBlipHandle.get(player) ?? 0) + 1;
      lastBlipHandle.set(player, handle);
      blips.set(handle, {
        handle,
        resource: ctx.resource,
        x: Number(x),
        y: Number(y),
        z: Number(z),
        sprite: 1,
        colour: 0,
        scale: 1,
        name: '',
        shortRange: false,
        flashes: false,
        route: false,
      });
      return handle;
    },
    DoesBlipExist: (handle: unknown) => blip(handle) !== undefined,
    RemoveBlip: (handle: unknown) => {
      blips.delete(Number(handle));
    },
    SetBlipSprite: setter('sprite', int),
    SetBlipColour: setter('colour', int),
    SetBlipScale: setter('scale', Number),
    SetBlipAsShortRange: setter('shortRange', bool),
    SetBlipFlashes: setter('flashes', bool),
    SetBlipRoute: setter('route', bool),
    SetBlipCoords: (handle: unknown, x: unknown, y: unknown, z: unknown) => {
      const b = blip(handle);
      if (b) Object.assign(b, { x: Number(x), y: Number(y), z: Number(z) });
    },
    GetBlipSprite: (handle: unknown) => blip(handle)?.sprite ?? 0,
    GetBlipColour: (handle: unknown) => blip(handle)?.colour ?? 0,
    BeginTextCommandSetBlipName: (label: unknown) => {
      text = { label: String(label), parts: [] };
    },
    AddTextComponentSubstringPlayerName: addText,
    AddTextComponentString: addText,
    EndTextCommandSetBlipName: (handle: unknown) => {
      const b = blip(handle);
      // 'STRING' shows the components; another label is a text entry the emulator lacks.
      if (b && text) b.name = text.label === 'STRING' ? text.parts.join('') : text.label;
      text = null;
    },
  };
}
