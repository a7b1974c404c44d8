/**
 * What Qbox (qbx_core) and QBCore (qb-core) share: both hand out a player object whose
 * `PlayerData` holds `charinfo`, `job` and `metadata` in the same shape, and both fire the
 * QBCore server events. Only the data is read: the object also carries `Functions` (and on
 * QBCore each method again at its top level), which arrive as function references and are
 * never called here.
 *
 * Sources read (facts and paths in the report that came with this file):
 * - qbx_core 959b77b: server/player.lua (CheckPlayerData, CreatePlayer, SetMetadata,
 *   SetJobDuty, SetPlayerPrimaryJob, Logout, UpdatePlayerData), server/functions.lua
 *   (GetPlayer).
 * - qb-core 37d3b84: server/player.lua (Player class, buildInterface, exports GetPlayer),
 *   server/events.lua (ToggleDuty, OnPlayerUpdated re-fired as OnJobUpdate), config.lua
 *   (PlayerDefaults); qb-core 17da768 (the release before "Support partial player data
 *   updates") for the events older servers still fire.
 */
import { z } from 'zod';
import type { Character, FrameworkHost, Job, RefreshEvent } from './types';
import { playerId } from './values';

/** A short text field; numbers (a phone saved as a number) become text. */
const text = (max: number) =>
  z
    .union([z.string(), z.number().int().nonnegative()])
    .transform((v) => String(v).trim())
    .pipe(z.string().min(1).max(max))
    .nullable()
    .catch(null);

/** Set only when the flag is really `true`: a hint, so anything odd reads as not set. */
const flag = z.boolean().catch(false);

const charinfoSchema = z
  .object({ firstname: text(64), lastname: text(64), phone: text(32) })
  .catch({ firstname: null, lastname: null, phone: null });

const jobSchema = z
  .object({
    name: z.string().trim().min(1).max(64),
    // Both frameworks write 'none' for a job without a type.
    type: z
      .string()
      .trim()
      .max(64)
      .transform((t) => (t === '' || t === 'none' ? null : t))
      .nullable()
      .catch(null),
    onduty: flag,
  })
  .nullable()
  .catch(null);

const metadataSchema = z
  .object({ isdead: flag, inlaststand: flag, ishandcuffed: flag })
  .catch({ isdead: false, inlaststand: false, ishandcuffed: false });

const playerDataSchema = z.object({
  charinfo: charinfoSchema,
  job: jobSchema,
  metadata: metadataSchema,
});

const table = z.custom<Record<string, unknown>>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
);

/** Only the reference to PlayerData is taken here; its fields are read just below. */
const playerObjectSchema = z.object({ PlayerData: table });

export type PlayerDataFields = z.infer<typeof playerDataSchema>;

/**
 * The PlayerData of what `GetPlayer(src)` answered, read field by field; null when no
 * character is loaded (the export answers nil, or something without PlayerData).
 */
export function readPlayerData(answer: unknown): PlayerDataFields | null {
  const object = playerObjectSchema.safeParse(answer);
  if (!object.success) return null;
  return playerDataSchema.parse(object.data.PlayerData);
}

export function toCharacter(data: PlayerDataFields): Character {
  const job: Job | null = data.job
    ? { name: data.job.name, type: data.job.type, onDuty: data.job.onduty }
    : null;
  return {
    firstName: data.charinfo.firstname,
    lastName: data.charinfo.lastname,
    phone: data.charinfo.phone,
    job,
    dead: data.metadata.isdead,
    lastStand: data.metadata.inlaststand,
    cuffed: data.metadata.ishandcuffed,
  };
}

/** Reads `GetPlayer(player)` of `resource`; a throw from the export propagates. */
export function readQbPlayer(host: FrameworkHost, resource: string, player: number) {
  return readPlayerData(host.call(resource, 'GetPlayer', player));
}

/** The `PlayerData.source` of a player object or of a bare PlayerData table. */
function sourceOf(value: unknown, nested: boolean): number | null {
  if (typeof value !== 'object' || value === null) return null;
  const data = nested ? (value as { PlayerData?: unknown }).PlayerData : value;
  if (typeof data !== 'object' || data === null) return null;
  return playerId((data as { source?: unknown }).source);
}

/** The player is the event's argument at `index`. */
export const argAt =
  (index: number) =>
  (_source: unknown, args: readonly unknown[]): number | null =>
    playerId(args[index]);

/** The argument at `index` is a player object: `PlayerData.source`. */
export const playerObjectAt =
  (index: number) =>
  (_source: unknown, args: readonly unknown[]): number | null =>
    sourceOf(args[index], true);

/** The argument at `index` is a PlayerData table: its `source`. */
export const playerDataAt =
  (index: number) =>
  (_source: unknown, args: readonly unknown[]): number | null =>
    sourceOf(args[index], false);

/** The events both frameworks fire with the same name and arguments. */
export const sharedEvents: readonly RefreshEvent[] = [
  // TriggerEvent('QBCore:Server:PlayerLoaded', player): the player object itself.
  { event: 'QBCore:Server:PlayerLoaded', player: playerObjectAt(0) },
  // TriggerEvent('QBCore:Server:OnPlayerUnload', source)
  { event: 'QBCore:Server:OnPlayerUnload', player: argAt(0), unload: true },
  // TriggerEvent('QBCore:Server:OnJobUpdate', source, job)
  { event: 'QBCore:Server:OnJobUpdate', player: argAt(0) },
  // TriggerEvent('QBCore:Server:SetDuty', source, onDuty)
  { event: 'QBCore:Server:SetDuty', player: argAt(0) },
  // TriggerEvent('QBCore:Player:SetPlayerData', PlayerData): every data change on Qbox and
  // on QBCore before April 2026 (metadata, charinfo, duty); a full refresh since.
  { event: 'QBCore:Player:SetPlayerData', player: playerDataAt(0) },
];
