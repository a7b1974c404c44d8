/**
 * The server natives the resource reads, behind one interface so the logic can be driven by
 * tests and so every native quirk (string ids, null returns) is handled in one place.
 */
import type { Position } from '../shared/call/build';

export interface World {
  resourceName(): string;
  loadFile(resource: string, path: string): string | null;
  resourceState(resource: string): string;
  resourceMetadata(resource: string, key: string): string | null;
  convar(name: string): string;
  playerExists(player: number): boolean;
  playerName(player: number): string;
  identifiers(player: number): string[];
  /** The server's own view (OneSync); null when it has none. */
  position(player: number): Position | null;
  aceAllowed(player: number, ace: string): boolean;
}
