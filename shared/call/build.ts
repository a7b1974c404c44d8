/**
 * The one call builder: a template (a command, or exportDefaults with an export's fields) +
 * the words, the place and the caller -> the body the CAD receives. Pure: every value that
 * comes from the world (position, names, postal, caller) is passed in.
 */
import type { CommandConfig } from '../config/schema';
import { type DispatchCall, dispatchCallSchema } from './contract';
import { type LocationNames, renderTemplate } from './template';

export interface Position {
  x: number;
  y: number;
  z: number;
}

/**
 * What a call is made of before the words and the place: a command's settings, or
 * exportDefaults with an export's own fields over them. A command is one as it is.
 */
export type CallTemplate = Pick<
  CommandConfig,
  | 'title'
  | 'code'
  | 'priority'
  | 'origin'
  | 'status'
  | 'attachCaller'
  | 'communityUserIds'
  | 'accounts'
  | 'deleteAfterMinutes'
> & {
  /** The CAD gets no name, id or communityUserId of the caller. */
  anonymous?: boolean;
};

export interface Report {
  template: CallTemplate;
  /** Already cleaned with cleanText. */
  description: string;
  /** null: nowhere trustworthy is known; the call then carries no coordinates at all. */
  position: Position | null;
  heading: number | null;
  names: { street?: string; crossing?: string; zone?: string };
  postal: string | null;
  /** null: no player made the call (an export without a playerId). */
  caller: {
    name: string;
    playerId: number;
    communityUserId: string | null;
    /** The character's number, from the framework or the phone resource. */
    phone?: string | null;
  } | null;
  /** Unique per accepted call; lets a duplicate be traced back to one report. */
  requestId: string;
  /** The resource that raised the call, written into metaData for staff. */
  resource?: string;
  /** What an export caller set itself; the rest comes from the template and the place. */
  address?: string;
  block?: string;
  notes?: DispatchCall['notes'];
  /** The caller's own keys; none of RESERVED_META_KEYS (the export schema refuses them). */
  metaData?: Record<string, string>;
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
  const { template, caller, position } = report;
  const rendered = renderLocation(formats, report.names, report.postal);

  const known = caller !== null && !template.anonymous ? caller : null;
  const callerId = known && template.attachCaller ? known.communityUserId : null;
  const communityUserIds = [
    ...new Set([...(callerId ? [callerId] : []), ...template.communityUserIds]),
  ];

  const metaData: Record<string, string> = {
    ...report.metaData,
    source: 'sonoran-911',
    ...(report.resource !== undefined ? { resource: report.resource } : {}),
    requestId: report.requestId,
    // No coordinates rather than 0, 0, 0: that would put a blip at the map's origin.
    ...(position ? { x: coord(position.x), y: coord(position.y), z: coord(position.z) } : {}),
  };
  if (report.postal) metaData.postal = report.postal;
  if (report.heading !== null) metaData.heading = String(Math.round(report.heading));
  if (caller) metaData.callerName = caller.name;
  if (known) metaData.callerPlayerId = String(known.playerId);
  if (known?.communityUserId) metaData.callerCommunityUserId = known.communityUserId;
  if (known?.phone) metaData.callerPhone = known.phone;

  const call: DispatchCall = {
    origin: template.origin,
    status: template.status,
    priority: template.priority,
    block: report.block ?? rendered.block,
    address: report.address ?? rendered.address,
    postal: report.postal ?? '',
    title: template.title,
    code: template.code,
    description: report.description,
    notes: report.notes ?? [],
    ...(communityUserIds.length > 0 ? { communityUserIds } : {}),
    ...(template.accounts.length > 0 ? { accounts: [...template.accounts] } : {}),
    metaData,
    ...(template.deleteAfterMinutes !== null
      ? { deleteAfterMinutes: template.deleteAfterMinutes }
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
