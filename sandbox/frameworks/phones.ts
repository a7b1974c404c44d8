/**
 * Stand-ins for the phone resources server/framework/phones.ts reads, each answering the
 * export name, arguments and shapes of the real one. Tests and the sandbox drive them only
 * through `sandbox_` exports of the stand-in itself.
 *
 * What each one follows (read 2026-11):
 * - npwd: source, github.com/project-error/npwd at 0f08eebbb628005aef68528a9268cd360bb163e2,
 *   apps/game/server/bridge/sv_exports.ts (`getPlayerData` is an async JS export taking a
 *   locator `{ source | identifier | phoneNumber }`, a string source parsed as an integer,
 *   and answering null for a player npwd has not loaded, else `{ phoneNumber, firstName,
 *   lastName, name, identifier, source }`), apps/game/server/players/player.service.ts
 *   (`getPlayer` → null when unknown) and player.interfaces.ts (ExportedPlayerData).
 * - lb-phone: closed source. Its escrow-free server/custom/frameworks/qb/qb.lua (a public
 *   copy) calls its own `GetEquippedPhoneNumber(source)` and treats a falsy answer as no
 *   phone; docs.lbscripts.com/phone/exports/state-bags documents the number as a string
 *   (`phoneNumber` state bag). The server-exports docs page, which public integrations cite
 *   for the export, was not in the stored copies. The stand-in answers nil without a phone.
 * - qs-smartphone: closed source. Vendor docs, docs.quasar-store.com/assets-and-guides/
 *   smartphone/exports-and-commands/server-exports: the export is `GetPlayerPhone(source)`
 *   of the companion resource `qs-base`. Its answer without a phone is not documented: nil.
 * - gksphone: closed source. Its fxmanifest.lua (1.6.9, a public copy) lists
 *   `GetPhoneBySource` under server_exports; public bridges call it with a source. Answer
 *   without a phone undocumented: nil.
 * - okokPhone: closed source; only public bridges name `getPhoneNumberFromSource(source)`.
 *   Answer without a phone undocumented: nil.
 * - yseries: closed source; only public bridges name `GetPhoneNumberBySourceId(source)`.
 *   Answer without a phone undocumented: nil.
 * npwd is a JS resource; the closed ones are Lua resources (their manifests load Lua), so
 * their stand-ins are Lua too.
 */
import type { FxServer, Player } from '../emulator';
import { startLua } from './drive';
import type { PhoneStandIn } from './types';

/** A phone stand-in with what tests also need: a player losing the phone, a broken update. */
export interface SandboxPhone extends PhoneStandIn {
  /** The player has no phone (npwd: is not loaded) from now on. */
  clearNumber(fx: FxServer, player: Player): Promise<void>;
  /** From now on the number export throws, as a broken update would. */
  breakExports(fx: FxServer): Promise<void>;
}

const NPWD_SERVER = `
const players = new Map();
let broken = false;

function bySource(src) {
  return players.get(typeof src === 'string' ? parseInt(src, 10) : src) ?? null;
}

exports('getPlayerData', async (locator) => {
  if (broken) throw new Error('npwd stand-in: broken');
  let player = null;
  if (locator && locator.source) player = bySource(locator.source);
  if (locator && locator.identifier) {
    player = [...players.values()].find((p) => p.identifier === locator.identifier) ?? null;
  }
  if (locator && locator.phoneNumber) {
    player = [...players.values()].find((p) => p.phoneNumber === locator.phoneNumber) ?? null;
  }
  if (!player) return null;
  return { ...player };
});

exports('sandbox_setNumber', (src, number) => {
  const name = GetPlayerName(String(src)) ?? '';
  const [firstName = '', lastName = ''] = name.split(' ');
  players.set(src, {
    phoneNumber: number,
    firstName,
    lastName,
    name,
    identifier: GetPlayerIdentifier(String(src), 0) ?? String(src),
    source: src,
  });
});
exports('sandbox_clear', (src) => { players.delete(src); });
exports('sandbox_break', () => { broken = true; });
`;

/**
 * A Lua phone whose export `exportName(source)` answers the number, or nil without one;
 * `sandbox_setNumber`, `sandbox_clear` and `sandbox_break` drive it.
 */
function luaPhone(exportName: string): string {
  return `
local numbers = {}
local broken = false

exports('${exportName}', function(source)
  if broken then error('${exportName}: stand-in broken') end
  return numbers[tonumber(source)]
end)

exports('sandbox_setNumber', function(source, number)
  numbers[tonumber(source)] = number
end)
exports('sandbox_clear', function(source)
  numbers[tonumber(source)] = nil
end)
exports('sandbox_break', function()
  broken = true
end)
`;
}

// A resource with no exports: its state is what the reader checks.
const EMPTY_LUA = '-- the phone itself; its number export lives in qs-base\n';

function standIn(
  resource: string,
  exportResource: string,
  start: (fx: FxServer) => Promise<void>,
): SandboxPhone {
  const drive = (fx: FxServer, name: string, ...args: unknown[]) => {
    fx.exportsOf(exportResource)[name]!(...args);
    return Promise.resolve();
  };
  return {
    resource,
    start,
    setNumber: (fx, player, number) => drive(fx, 'sandbox_setNumber', player.id, number),
    clearNumber: (fx, player) => drive(fx, 'sandbox_clear', player.id),
    breakExports: (fx) => drive(fx, 'sandbox_break'),
  };
}

export const npwd: SandboxPhone = standIn('npwd', 'npwd', async (fx) => {
  if (!fx.startResource('npwd', { server: NPWD_SERVER })) {
    throw new Error('stand-in npwd did not start');
  }
});

export const lbPhone: SandboxPhone = standIn('lb-phone', 'lb-phone', (fx) =>
  startLua(fx, 'lb-phone', luaPhone('GetEquippedPhoneNumber')),
);

/** Starts qs-base (which holds the number export) and then qs-smartphone. */
export const qsSmartphone: SandboxPhone = standIn('qs-smartphone', 'qs-base', async (fx) => {
  await startLua(fx, 'qs-base', luaPhone('GetPlayerPhone'));
  await startLua(fx, 'qs-smartphone', EMPTY_LUA);
});

export const gksphone: SandboxPhone = standIn('gksphone', 'gksphone', (fx) =>
  startLua(fx, 'gksphone', luaPhone('GetPhoneBySource')),
);

export const okokPhone: SandboxPhone = standIn('okokPhone', 'okokPhone', (fx) =>
  startLua(fx, 'okokPhone', luaPhone('getPhoneNumberFromSource')),
);

export const yseries: SandboxPhone = standIn('yseries', 'yseries', (fx) =>
  startLua(fx, 'yseries', luaPhone('GetPhoneNumberBySourceId')),
);

/** Every phone stand-in, in the order server/framework/phones.ts tries them. */
export const PHONE_STAND_INS: readonly SandboxPhone[] = [
  npwd,
  lbPhone,
  qsSmartphone,
  gksphone,
  okokPhone,
  yseries,
];
