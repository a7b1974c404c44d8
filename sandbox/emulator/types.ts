/** Resource name on the lines the emulator itself prints (access denied, ...). */
export const FX = 'fxserver';

export type Vec3 = [number, number, number];

export type Side = 'server' | 'client';

export type ResourceState = 'missing' | 'stopped' | 'starting' | 'started' | 'stopping';

export type LogLevel = 'log' | 'info' | 'warn' | 'error' | 'debug';

export interface LogEntry {
  resource: string;
  side: Side;
  player?: number;
  level: LogLevel;
  text: string;
}

export interface ErrorEntry {
  resource: string;
  side: Side;
  player?: number;
  /** What was running: `event foo`, `command 911`, `export bar`, `tick`, `script load`... */
  where: string;
  message: string;
  error: unknown;
}

export interface ResourceFiles {
  files?: Record<string, string>;
  metadata?: Record<string, string[]>;
}

export interface ResourceCode extends ResourceFiles {
  server?: string;
  client?: string;
}

export interface Zone {
  code: string;
  label: string;
}

export interface PlayerOptions {
  name: string;
  identifiers: string[];
  position: Vec3;
  heading?: number;
  aces?: string[];
  /** Street the client reports; default 'Alta St'. */
  street?: string;
  /** Cross street; '' or absent = none (the game then returns hash 0). */
  crossing?: string;
  /** Default { code: 'ALTA', label: 'Alta' }. */
  zone?: Zone;
  clientPosition?: Vec3;
}

export interface ChatLine {
  author?: string;
  text: string;
  color?: number[];
}

export interface Suggestion {
  help: string;
  params: unknown[];
}

export interface NetEventRecord {
  name: string;
  args: unknown[];
}

export interface ConvarOptions {
  /** `setr`: clients can read it too. */
  replicated?: boolean;
  /** Only these resources may read it (as after `add_convar_permission`); others get the default. */
  readableBy?: string[];
}

/** A blip a client script created (AddBlipForCoord) and has not removed. */
export interface Blip {
  handle: number;
  /** The resource whose script created it. */
  resource: string;
  x: number;
  y: number;
  z: number;
  sprite: number;
  colour: number;
  scale: number;
  /** What EndTextCommandSetBlipName set; '' until then. */
  name: string;
  shortRange: boolean;
  flashes: boolean;
  route: boolean;
}
