/**
 * A few well-known places of the default map, so sandbox players stand on a named street
 * in a named zone, and demo postal points around them. Made up for trying things out:
 * a real server uses its nearest-postal data.
 */
export interface Place {
  name: string;
  x: number;
  y: number;
  z: number;
  street: string;
  crossing: string;
  zone: { code: string; label: string };
}

export const PLACES: Place[] = [
  {
    name: 'Legion Square',
    x: 195.2,
    y: -933.8,
    z: 30.7,
    street: 'Vespucci Blvd',
    crossing: 'Strawberry Ave',
    zone: { code: 'PBOX', label: 'Pillbox Hill' },
  },
  {
    name: 'Mission Row',
    x: 428.2,
    y: -981.4,
    z: 30.7,
    street: 'Atlee St',
    crossing: 'Sinner St',
    zone: { code: 'MISSION', label: 'Mission Row' },
  },
  {
    name: 'Fleeca, Hawick Ave',
    x: 314.2,
    y: -279.1,
    z: 54.2,
    street: 'Hawick Ave',
    crossing: 'Alta St',
    zone: { code: 'ALTA', label: 'Alta' },
  },
  {
    name: 'Pacific Standard',
    x: 235.1,
    y: 216.8,
    z: 106.3,
    street: 'Vinewood Blvd',
    crossing: 'Alta St',
    zone: { code: 'DTVINE', label: 'Downtown Vinewood' },
  },
  {
    name: 'Sandy Shores',
    x: 1853.2,
    y: 3686.5,
    z: 34.3,
    street: 'Marina Dr',
    crossing: 'Alhambra Dr',
    zone: { code: 'SANDY', label: 'Sandy Shores' },
  },
  {
    name: 'Paleto Bay',
    x: -110.4,
    y: 6465.1,
    z: 31.6,
    street: 'Paleto Blvd',
    crossing: '',
    zone: { code: 'PALETO', label: 'Paleto Bay' },
  },
];

export function nearestPlace(x: number, y: number): Place {
  let best = PLACES[0]!;
  for (const p of PLACES) {
    if (Math.hypot(p.x - x, p.y - y) < Math.hypot(best.x - x, best.y - y)) best = p;
  }
  return best;
}

/** Demo postal points: one near each place and a few between them. */
export const DEMO_POSTALS = [
  { x: 200, y: -930, code: '7021' },
  { x: 430, y: -975, code: '7045' },
  { x: 310, y: -280, code: '7150' },
  { x: 240, y: 220, code: '7230' },
  { x: 1850, y: 3690, code: '2032' },
  { x: -110, y: 6460, code: '1010' },
  { x: -500, y: -300, code: '7300' },
  { x: 1000, y: -2000, code: '8200' },
];
