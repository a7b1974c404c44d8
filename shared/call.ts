/**
 * A validated report + its command's settings -> the body the CAD receives. Pure: every
 * value that comes from the world (position, names, postal, caller) is passed in.
 */
import type { CommandConfig } from './config-schema';
import { type DispatchCall, dispatchCallSchema } from './contract';
import { type LocationNames, renderTemplate } from './template';

export interface Position {
  x: number;
  y: number;
  z: number;
}

export interface Report {
  command: CommandConfig;
  /** Already cleaned with cleanText. */
  description: string;
  /** null: nowhere trustworthy is known; the call then carries no coordinates at all. */
  position: Position | null;
  heading: number | null;
  names: { street?: string; crossing?: string; zone?: string };
  postal: string | null;
  /** `anonymous`: the CAD gets no name, id or communityUserId of the caller. */
  caller: { name: string; playerId: number; communityUserId: string | null; anonymous?: boolean };
  /** Unique per accepted call; lets a duplicate be traced back to one report. */
  requestId: string;
}

export interface LocationFormats {
  addressFormat: string;
  blockFormat: string;
  /** Written when a template renders empty (no street, zone or postal known). */
  unknownLocation: string;
  /** Written when only the postal is known; `{postal}` is filled in. */
  nearPostal: string;
}

/** Address and block from the templates, with fallbacks so neither is ever empty. */
export function renderLocation(
  formats: LocationFormats,
  names: LocationNames,
  postal: string | null,
): { address: string; block: string } {
  const values = { ...names, postal: postal ?? '' };
  const fallback = postal
    ? formats.nearPostal.replace('{postal}', postal)
    : formats.unknownLocation;
  const address = renderTemplate(formats.addressFormat, values) || fallback;
  const block = renderTemplate(formats.blockFormat, values) || address;
  return { address, block };
}

export type BuildResult = { ok: true; call: DispatchCall } | { ok: false; error: string };

/** Two decimals locate a caller to a centimetre; more is noise on the live map. */
export const coord = (n: number): string => String(Math.round(n * 100) / 100);

export function buildCall(report: Report, formats: LocationFormats): BuildResult {
  const { command, caller, position } = report;
  const { address, block } = renderLocation(formats, report.names, report.postal);

  const known = !caller.anonymous;
  const communityUserIds = [
    ...new Set([
      ...(known && command.attachCaller && caller.communityUserId ? [caller.communityUserId] : []),
      ...command.communityUserIds,
    ]),
  ];

  const metaData: Record<string, string> = {
    source: 'sonoran-911',
    // No coordinates rather than 0, 0, 0: that would put a blip at the map's origin.
    ...(position ? { x: coord(position.x), y: coord(position.y), z: coord(position.z) } : {}),
    callerName: caller.name,
    requestId: report.requestId,
  };
  if (known) metaData.callerPlayerId = String(caller.playerId);
  if (report.postal) metaData.postal = report.postal;
  if (report.heading !== null) metaData.heading = String(Math.round(report.heading));
  if (known && caller.communityUserId) metaData.callerCommunityUserId = caller.communityUserId;

  const call: DispatchCall = {
    origin: command.origin,
    status: command.status,
    priority: command.priority,
    block,
    address,
    postal: report.postal ?? '',
    title: command.title,
    code: command.code,
    description: report.description,
    notes: [],
    ...(communityUserIds.length > 0 ? { communityUserIds } : {}),
    ...(command.accounts.length > 0 ? { accounts: [...command.accounts] } : {}),
    metaData,
    ...(command.deleteAfterMinutes !== null
      ? { deleteAfterMinutes: command.deleteAfterMinutes }
      : {}),
  };

  return checkCall(call);
}

/** The same schema the contract tests use: what fails here would fail at the CAD. */
export function checkCall(call: DispatchCall): BuildResult {
  const checked = dispatchCallSchema.safeParse(call);
  if (!checked.success) {
    return { ok: false, error: checked.error.issues.map((i) => i.message).join('; ') };
  }
  return { ok: true, call: checked.data };
}
