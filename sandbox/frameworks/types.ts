/**
 * Stand-ins for the roleplay frameworks, phones and inventories a server runs beside us.
 * Each one answers through the same exports, state bags and events as the real resource
 * (read from its source; the file names the repository, commit and paths it follows) and
 * is driven by tests and the sandbox only through the methods below, which go through the
 * stand-in's own code paths (a login fires the framework's own load event, and so on).
 */
import type { FxServer, Player } from '../emulator';

export interface JobSpec {
  name: string;
  /** Qbox/QBCore job type ("leo", "ems"); ignored where the framework has none. */
  type?: string;
  /** Ignored where the framework has no duty flag. Default true. */
  onDuty?: boolean;
  grade?: number;
}

export interface CharacterSpec {
  firstName: string;
  lastName: string;
  /** Where the framework stores a number; otherwise set it through a phone stand-in. */
  phone?: string;
  job?: JobSpec;
}

export interface FrameworkStandIn {
  readonly name: 'qbx' | 'qb' | 'esx' | 'ox' | 'nd';
  /** Every resource it starts, the core first (plus medical/police stand-ins it needs). */
  readonly resources: readonly string[];
  start(fx: FxServer): Promise<void>;
  /** The framework's own character load: its load events fire as the real one's do. */
  login(fx: FxServer, player: Player, character: CharacterSpec): Promise<void>;
  logout(fx: FxServer, player: Player): Promise<void>;
  setJob(fx: FxServer, player: Player, job: JobSpec): Promise<void>;
  /** Through the framework's duty path; a no-op where it has no duty flag. */
  setDuty(fx: FxServer, player: Player, onDuty: boolean): Promise<void>;
  /** As its medical resource marks a dead (or revived) player. */
  setDead(fx: FxServer, player: Player, dead: boolean): Promise<void>;
  /** Last stand where the framework has one; otherwise the same as setDead. */
  setLastStand(fx: FxServer, player: Player, down: boolean): Promise<void>;
  /** As its police resource marks handcuffs; a no-op where nothing tracks them. */
  setCuffed(fx: FxServer, player: Player, cuffed: boolean): Promise<void>;
  /** From now on every export of the core throws, as a broken update would. */
  breakExports(fx: FxServer): Promise<void>;
}

export interface PhoneStandIn {
  readonly resource: string;
  start(fx: FxServer): Promise<void>;
  setNumber(fx: FxServer, player: Player, number: string): Promise<void>;
}

export interface InventoryStandIn {
  readonly resource: string;
  start(fx: FxServer): Promise<void>;
  give(fx: FxServer, player: Player, item: string, count: number): Promise<void>;
}
