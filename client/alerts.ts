/**
 * A responder's map: one blip per call they were alerted to, removed after its time. Only
 * the client can draw a blip; the server sends just the place, a label and how long.
 */
import type { AlertPayload } from '../shared/protocol';

/** A flood of alerts must not fill the map: the oldest blip goes first past this. */
const MAX_BLIPS = 20;
/** A flashing red dispatch marker ("radar_emergency"-like), small enough not to hide streets. */
const SPRITE = 161;
const COLOUR = 1;
const SCALE = 1.0;

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

export function createAlertBlips() {
  const blips = new Map<string, { handle: number; timer: ReturnType<typeof setTimeout> }>();

  const remove = (id: string) => {
    const blip = blips.get(id);
    if (!blip) return;
    blips.delete(id);
    clearTimeout(blip.timer);
    if (DoesBlipExist(blip.handle)) RemoveBlip(blip.handle);
  };

  return {
    show(payload: AlertPayload): void {
      if (!payload || typeof payload.id !== 'string' || typeof payload.label !== 'string') return;
      const { x, y, z, seconds } = payload;
      if (![x, y, z, seconds].every(finite) || seconds <= 0) return;
      // The same call again (a second alert) replaces its blip instead of stacking one.
      remove(payload.id);
      while (blips.size >= MAX_BLIPS) remove(blips.keys().next().value as string);
      const handle = AddBlipForCoord(x, y, z);
      SetBlipSprite(handle, SPRITE);
      SetBlipColour(handle, COLOUR);
      SetBlipScale(handle, SCALE);
      SetBlipAsShortRange(handle, false);
      SetBlipFlashes(handle, true);
      BeginTextCommandSetBlipName('STRING');
      AddTextComponentSubstringPlayerName(payload.label.slice(0, 60));
      EndTextCommandSetBlipName(handle);
      const timer = setTimeout(() => remove(payload.id), Math.min(seconds, 3_600) * 1000);
      blips.set(payload.id, { handle, timer });
    },
    /** The resource stops: nothing of ours stays on the map. */
    clear(): void {
      for (const id of [...blips.keys()]) remove(id);
    },
  };
}
