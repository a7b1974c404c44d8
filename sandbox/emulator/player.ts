import type { Kernel } from './kernel';
import type {
  Blip,
  ChatLine,
  NetEventRecord,
  PlayerOptions,
  Suggestion,
  Vec3,
  Zone,
} from './types';

/**
 * A connected game client. Fields are plain and mutable on purpose: a test may change
 * `street`, `zone`, `aces`... between commands.
 */
export class Player {
  name: string;
  identifiers: string[];
  /** Where the server (OneSync) sees the ped. */
  position: Vec3;
  /** Set when the client lies about its position; null when it reports `position`. */
  clientPosition: Vec3 | null;
  heading: number;
  aces: string[];
  street: string;
  crossing: string;
  zone: Zone;
  /** Lines the stock chat would show this player. */
  readonly chat: ChatLine[] = [];
  /** Chat command suggestions, by name as given (e.g. '/911'). */
  readonly suggestions = new Map<string, Suggestion>();
  /** Every server→client net event delivered to this player, in order. */
  readonly received: NetEventRecord[] = [];
  connected = true;
  /** How many times the stock chat refreshed this player's command suggestions. */
  chatRefreshes = 0;
  /** False once the ped is gone while GetPlayerPed still answers its handle (see losePed). */
  pedExists = true;
  readonly serverPed: number;
  readonly clientPed: number;
  /** This client's copy of the state bags the server sent it (statebags.ts). */
  readonly stateView = new Map<string, Map<string, Uint8Array>>();
  /** Blips on this client's map by handle (client-globals.ts); see `blips`. */
  readonly blipTable = new Map<number, Blip>();

  constructor(
    private readonly kernel: Kernel,
    readonly id: number,
    opts: PlayerOptions,
  ) {
    this.name = opts.name;
    this.identifiers = [...opts.identifiers];
    this.position = [...opts.position];
    this.clientPosition = opts.clientPosition ? [...opts.clientPosition] : null;
    this.heading = opts.heading ?? 0;
    this.aces = [...(opts.aces ?? [])];
    this.street = opts.street ?? 'Alta St';
    this.crossing = opts.crossing ?? '';
    this.zone = opts.zone ?? { code: 'ALTA', label: 'Alta' };
    // Arbitrary but distinct: server and client entity handles differ in the real game too.
    this.serverPed = 0x10000 + id * 8;
    this.clientPed = 0x200 + id * 8;
  }

  /** The blips on this player's map now, oldest first; a removed blip is gone from it. */
  get blips(): Blip[] {
    return [...this.blipTable.values()];
  }

  /** Moves the ped: both the server's and the client's view follow. */
  move(x: number, y: number, z: number, heading?: number): void {
    this.position = [x, y, z];
    this.clientPosition = null;
    if (heading !== undefined) this.heading = heading;
  }

  /** Makes only the client report this position (a teleport/spoof cheat). */
  setClientPosition(x: number, y: number, z: number): void {
    this.clientPosition = [x, y, z];
  }

  /**
   * The ped's entity is gone (model change, respawn) and the server has not seen a new one:
   * GetPlayerPed still answers the old handle, GetEntityCoords on it throws.
   */
  losePed(): void {
    this.pedExists = false;
  }

  drop(reason = 'Disconnected.'): void {
    this.kernel.dropPlayer(this, reason);
  }

  /** What the chat box does with typed text: `/cmd args` runs a command, else a message. */
  type(text: string): void {
    this.kernel.commands.playerTyped(this, text);
  }

  /** Whether one of this player's client runtimes has registered `/name` right now. */
  hasClientCommand(name: string): boolean {
    return this.kernel.commands.clientHas(this, name);
  }

  /** Sends a net event to the server as this client would (or as a cheater could). */
  emitNet(name: string, ...args: unknown[]): void {
    this.kernel.events.sendToServer(this, name, args);
  }

  /** Fires a local event on this player's client runtimes. */
  emit(name: string, ...args: unknown[]): void {
    this.kernel.events.emitClientLocal(this, name, args, null);
  }

  /** Chat lines as `author: text` (or just text), handy for assertions. */
  chatText(): string[] {
    return this.chat.map((l) => (l.author ? `${l.author}: ${l.text}` : l.text));
  }
}
