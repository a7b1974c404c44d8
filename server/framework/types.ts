/**
 * What the resource reads of a roleplay framework, and the one shape every framework's
 * adapter answers in. Adapters touch the world only through FrameworkHost, so each can be
 * driven by a fake in unit tests and by the emulator's stand-ins end to end.
 */

export const FRAMEWORKS = ['qbx', 'qb', 'esx', 'ox', 'nd'] as const;
export type FrameworkName = (typeof FRAMEWORKS)[number];

export interface Job {
  /** The job's name as the framework keys it: "police", "ambulance". */
  name: string;
  /** The framework's job type where it has one ("leo", "ems"); null where it has none. */
  type: string | null;
  /** null: the framework has no duty flag, so holding the job counts as on duty. */
  onDuty: boolean | null;
}

/** One player's character as the framework sees it; every flag is a hint, never proof. */
export interface Character {
  firstName: string | null;
  lastName: string | null;
  /** From the framework, else from the phone resource; null when neither knows. */
  phone: string | null;
  job: Job | null;
  dead: boolean;
  lastStand: boolean;
  /** false where neither the framework nor its police resource tracks handcuffs. */
  cuffed: boolean;
}

/** The world an adapter may touch: other resources' exports, state bags and events. */
export interface FrameworkHost {
  resourceState(resource: string): string;
  /** exports[resource][name](...args), synchronously; throws as FXServer does. */
  call(resource: string, name: string, ...args: unknown[]): unknown;
  /** Player(player).state[key]; undefined when unset. */
  playerState(player: number, key: string): unknown;
}

/** A framework event after which one player's data may have changed. */
export interface RefreshEvent {
  event: string;
  /** Which player it concerns: from the event's source or its arguments; null: not one. */
  player(source: unknown, args: readonly unknown[]): number | null;
  /** The character is gone (logout, unload): forget it instead of reading it again. */
  unload?: boolean;
}

export interface FrameworkAdapter {
  readonly name: FrameworkName;
  /** The resource whose exports the adapter calls (and whose restart it watches). */
  readonly resource: string;
  /**
   * Reads one player now. null: no character is loaded (still in the character menu).
   * Throws when the framework is broken; the caller falls back and never loses a call.
   */
  read(player: number): Character | null;
  /** The framework's own events that change a player's data. */
  readonly events: readonly RefreshEvent[];
  /**
   * How many of `item` the player carries through the framework's own inventory; null when
   * this framework has no inventory of its own to ask (an inventory resource is asked then).
   */
  itemCount?(player: number, item: string): number | null;
}
