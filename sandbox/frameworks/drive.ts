/**
 * How the sandbox and the tests reach a stand-in resource: start its Lua, call one of its
 * exports. One place, so every stand-in fails the same way when it cannot start.
 */
import type { FxServer, Player } from '../emulator';

export type Call = (...args: unknown[]) => unknown;

/** Starts a Lua stand-in; throws when the emulator could not start it. */
export async function startLua(fx: FxServer, resource: string, source: string): Promise<void> {
  if (!(await fx.startLuaResource(resource, source))) {
    throw new Error(`stand-in ${resource} did not start`);
  }
}

/** One export of a resource. */
export function exportOf(fx: FxServer, resource: string, name: string): Call {
  return fx.exportsOf<Record<string, Call>>(resource)[name]!;
}

/** The player's duty as a QBCore-style core (qb-core, qbx_core) holds it; undefined without a character. */
export function coreDuty(fx: FxServer, core: string, player: Player): boolean | undefined {
  const answer = exportOf(fx, core, 'GetPlayer')(player.id) as
    | { PlayerData?: { job?: { onduty?: boolean } } }
    | null
    | undefined;
  return answer?.PlayerData?.job?.onduty;
}
