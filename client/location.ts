/**
 * Where the player stands, with the names only the game client knows. Read once per call,
 * never polled, so the resource costs nothing per frame.
 */
import type { ClientLocation } from '../shared/protocol';

export function readLocation(): ClientLocation {
  const ped = PlayerPedId();
  const [x = 0, y = 0, z = 0] = GetEntityCoords(ped, true);
  const [streetHash, crossingHash] = GetStreetNameAtCoord(x, y, z);
  const zoneCode = GetNameOfZone(x, y, z);
  const zoneLabel = zoneCode ? GetLabelText(zoneCode) : '';
  return {
    x,
    y,
    z,
    heading: GetEntityHeading(ped),
    street: streetHash ? GetStreetNameFromHashKey(streetHash) : '',
    crossing: crossingHash ? GetStreetNameFromHashKey(crossingHash) : '',
    // The game answers "NULL" for a zone code it has no label for.
    zone: zoneLabel && zoneLabel !== 'NULL' ? zoneLabel : (zoneCode ?? ''),
  };
}
