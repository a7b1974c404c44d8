/**
 * Every player's character as the framework, the phone and the inventory see it, kept per
 * player and refreshed on the framework's own events (and a periodic sweep, for an event a
 * framework forgot to fire). A caller is read again when they call. Whatever fails here
 * (a framework missing, stopped or throwing) degrades to the standalone behaviour: it is
 * said once in the console, and a call is never refused or lost for it.
 */
import type { AlertConfig } from '../../shared/config/schema';
import type { Logger } from '../log';
import type { InventorySource } from './inventories';
import type { PhoneSource } from './phones';
import type { Character, FrameworkAdapter, FrameworkHost } from './types';

/** The framework, phone and inventory read; swapped when one starts or stops. */
export interface Sources {
  adapter: FrameworkAdapter | null;
  phone: PhoneSource | null;
  inventory: InventorySource | null;
}

export interface CharactersDeps extends Sources {
  host: FrameworkHost;
  /** The connected players' server ids. */
  players(): number[];
  aceAllowed(player: number, ace: string): boolean;
  log: Logger;
}

/** One part (framework, phone, inventory) that can fail: said once when it starts, once when it ends. */
function failureNotice(log: Logger, what: string, fallback: string) {
  let failing = false;
  return {
    failed(error: unknown): void {
      if (failing) return;
      failing = true;
      const message = error instanceof Error ? error.message : String(error);
      log.warn(`${what} failed (${firstLine(message)}); ${fallback} until it answers again`);
    },
    answered(): void {
      if (!failing) return;
      failing = false;
      log.info(`${what} answers again`);
    },
  };
}

const firstLine = (text: string): string => {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
};

const empty = (): Character => ({
  firstName: null,
  lastName: null,
  phone: null,
  job: null,
  dead: false,
  lastStand: false,
  cuffed: false,
});

export function createCharacters(deps: CharactersDeps) {
  const { host, log } = deps;
  let adapter: FrameworkAdapter | null = null;
  let phone: PhoneSource | null = null;
  let inventory: InventorySource | null = null;
  let framework: ReturnType<typeof failureNotice> | null = null;
  let phoneNotice: ReturnType<typeof failureNotice> | null = null;
  let inventoryNotice: ReturnType<typeof failureNotice> | null = null;
  const cache = new Map<number, Character>();
  /** Numbers a phone resource answered later (an async export), kept until the player leaves. */
  const phones = new Map<number, string>();
  /** Lookups under way, so a sweep does not ask an async phone twice for one player. */
  const asking = new Map<number, Promise<string | null>>();

  const use = (sources: Sources): void => {
    adapter = sources.adapter;
    phone = sources.phone;
    inventory = sources.inventory;
    framework = adapter
      ? failureNotice(
          log,
          `framework ${adapter.name} (${adapter.resource})`,
          'what was last read of each player is used (their FiveM name for anyone not read yet); no call is refused for it',
        )
      : null;
    phoneNotice = phone
      ? failureNotice(log, `phone resource ${phone.resource}`, 'calls carry no phone number')
      : null;
    inventoryNotice = inventory
      ? failureNotice(log, `inventory ${inventory.resource}`, 'phoneItem is not checked')
      : null;
    phones.clear();
    asking.clear();
  };
  use(deps);

  /** The framework's view; undefined when it failed (the caller keeps what it had). */
  const readFramework = (player: number): Character | null | undefined => {
    if (!adapter || !framework) return null;
    try {
      const state = host.resourceState(adapter.resource);
      if (state !== 'started') throw new Error(`${adapter.resource} is ${state}`);
      const character = adapter.read(player);
      framework.answered();
      return character;
    } catch (error) {
      framework.failed(error);
      return undefined;
    }
  };

  /** The phone resource's number; an async answer lands in `phones` for the next read. */
  const readPhone = (player: number): string | null => {
    const known = phones.get(player);
    const source = phone;
    const notice = phoneNotice;
    if (known !== undefined || !source || !notice) return known ?? null;
    if (asking.has(player)) return null;
    try {
      if (host.resourceState(source.resource) !== 'started') return null;
      const answer = source.number(host, player);
      if (!(answer instanceof Promise)) {
        notice.answered();
        if (answer !== null) phones.set(player, answer);
        return answer;
      }
      const settled = answer.then(
        (number) => {
          asking.delete(player);
          notice.answered();
          if (number === null || !deps.players().includes(player)) return null;
          phones.set(player, number);
          const cached = cache.get(player);
          if (cached && cached.phone === null) cached.phone = number;
          return number;
        },
        (error: unknown) => {
          asking.delete(player);
          notice.failed(error);
          return null;
        },
      );
      asking.set(player, settled);
    } catch (error) {
      notice.failed(error);
    }
    return null;
  };

  /** Reads one player again; a failed framework read keeps the cached character. */
  const refresh = (player: number): Character | null => {
    const read = readFramework(player);
    if (read === undefined) return cache.get(player) ?? null;
    // Without a framework (or before a character loads) a phone may still know a number.
    const character = read ?? (phone ? empty() : null);
    if (character === null) {
      cache.delete(player);
      return null;
    }
    if (character.phone === null) character.phone = readPhone(player);
    // Nobody knows anything of this player, unless a phone is still looking their number up:
    // then the call can wait for it (phoneLookup).
    if (read === null && character.phone === null && !asking.has(player)) {
      cache.delete(player);
      return null;
    }
    cache.set(player, character);
    return character;
  };

  const matches = (alert: AlertConfig, c: Character): boolean => {
    const job = c.job;
    if (!job) return false;
    const held =
      alert.jobs.includes(job.name) || (job.type !== null && alert.types.includes(job.type));
    return held && (!alert.onDutyOnly || job.onDuty !== false);
  };

  return {
    /** Reads from these from now on (a framework or phone started or stopped); sweep after. */
    use,
    /** The framework's events to listen to (local server events). */
    eventNames(): string[] {
      return [...new Set(adapter?.events.map((e) => e.event) ?? [])];
    },
    /** One of the framework's events fired: read its player again, or forget them. */
    event(name: string, source: unknown, args: readonly unknown[]): void {
      for (const e of adapter?.events ?? []) {
        if (e.event !== name) continue;
        let player: number | null;
        try {
          player = e.player(source, args);
        } catch {
          player = null;
        }
        if (player === null || !Number.isInteger(player) || player <= 0) continue;
        if (e.unload) cache.delete(player);
        else refresh(player);
      }
    },
    /** The caller, read now; the cached character when the framework fails. Never throws. */
    caller(player: number): Character | null {
      return refresh(player);
    },
    /**
     * The phone resource's answer still on its way for this player (an async export), so a
     * call can wait for the number briefly; null when nothing is asked.
     */
    phoneLookup(player: number): Promise<string | null> | null {
      return asking.get(player) ?? null;
    },
    /** What was last read of a player, without asking again. */
    cached(player: number): Character | null {
      return cache.get(player) ?? null;
    },
    /** Reads every connected player again (at start, after the framework restarts, periodically). */
    sweep(): void {
      const here = new Set(deps.players());
      for (const player of cache.keys()) if (!here.has(player)) cache.delete(player);
      for (const player of here) refresh(player);
    },
    forget(player: number): void {
      cache.delete(player);
      phones.delete(player);
      asking.delete(player);
    },
    /**
     * Who hears of a call: players whose job (or job type) the alert names, on duty unless
     * the alert says otherwise, and players with its ACE; never the caller themself.
     */
    responders(alert: AlertConfig, except: number | null): number[] {
      const out = new Set<number>();
      for (const [player, c] of cache) if (matches(alert, c)) out.add(player);
      if (alert.ace !== null) {
        for (const player of deps.players())
          if (deps.aceAllowed(player, alert.ace)) out.add(player);
      }
      if (except !== null) out.delete(except);
      const here = new Set(deps.players());
      return [...out].filter((p) => here.has(p)).sort((a, b) => a - b);
    },
    /**
     * How many of the items the player carries in all; null when nobody can say (no
     * inventory, or it failed): the gate then lets the call through.
     */
    itemCount(player: number, items: readonly string[]): number | null {
      const source =
        inventory && host.resourceState(inventory.resource) === 'started' ? inventory : null;
      try {
        let total = 0;
        for (const item of items) {
          const n = source
            ? source.count(host, player, item)
            : (adapter?.itemCount?.(player, item) ?? null);
          if (n === null) return null;
          total += n;
          if (total > 0) break;
        }
        inventoryNotice?.answered();
        return total;
      } catch (error) {
        if (inventoryNotice) inventoryNotice.failed(error);
        else if (framework) framework.failed(error);
        return null;
      }
    },
  };
}

export type Characters = ReturnType<typeof createCharacters>;

/** "First Last" when the framework knows either; null otherwise. */
export function characterName(c: Character | null): string | null {
  if (!c) return null;
  const name = [c.firstName, c.lastName].filter((p) => p && p.trim() !== '').join(' ');
  return name === '' ? null : name;
}
