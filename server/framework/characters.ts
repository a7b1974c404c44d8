/**
 * Every player's character as the framework, the phone and the inventory see it, kept per
 * player and refreshed on the framework's own events (and a periodic sweep, for an event a
 * framework forgot to fire). A caller is read again when they call. Whatever fails here
 * (a framework missing, stopped or throwing) degrades to the standalone behaviour: it is
 * said once in the console, and a call is never refused or lost for it.
 */
import { cleanText } from '../../shared/call/text';
import type { AlertConfig } from '../../shared/config/schema';
import type { Logger } from '../log';
import type { InventorySource } from './inventories';
import { type PhoneSource, phoneNumberOf } from './phones';
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
  /** Runs `fn` soon, once per burst: one framework update fires several events. */
  defer(fn: () => void): void;
  now(): number;
  log: Logger;
}

/** A phone lookup older than this never settled: the number is asked for again. */
const STALE_LOOKUP_MS = 10_000;

/** A character name as the player typed it at character creation: one plain line. */
const cleanName = (name: string | null): string | null =>
  name === null ? null : cleanText(name, 64) || null;

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
  let frameworkNotice: ReturnType<typeof failureNotice> | null = null;
  /** The framework's own inventory failing is not the framework failing. */
  let itemsNotice: ReturnType<typeof failureNotice> | null = null;
  let phoneNotice: ReturnType<typeof failureNotice> | null = null;
  let inventoryNotice: ReturnType<typeof failureNotice> | null = null;
  const cache = new Map<number, Character>();
  /**
   * Numbers an async phone export (npwd) answered, kept until the character changes: asking
   * again would hold every call for the answer.
   */
  const phones = new Map<number, string>();
  /** Lookups under way, so a sweep does not ask an async phone twice for one player. */
  const asking = new Map<number, { answer: Promise<string | null>; since: number }>();
  /** Bumped by `use`: a lookup from the phone used before writes nothing. */
  let generation = 0;
  /** Players whose framework events came in this burst; read once when it is over. */
  const pending = new Set<number>();

  const use = (sources: Sources): void => {
    adapter = sources.adapter;
    phone = sources.phone;
    inventory = sources.inventory;
    frameworkNotice = adapter
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
    itemsNotice = adapter
      ? failureNotice(log, `the ${adapter.name} inventory`, 'phoneItem is not checked')
      : null;
    phones.clear();
    asking.clear();
    generation++;
  };
  use(deps);

  /** The framework's view; undefined when it failed (the caller keeps what it had). */
  const readFramework = (player: number): Character | null | undefined => {
    const notice = frameworkNotice;
    if (!adapter || !notice) return null;
    try {
      const state = host.resourceState(adapter.resource);
      if (state !== 'started') throw new Error(`${adapter.resource} is ${state}`);
      const read = adapter.read(player);
      notice.answered();
      // Players type their characters' names: one plain line, like any words of theirs.
      return (
        read && {
          ...read,
          firstName: cleanName(read.firstName),
          lastName: cleanName(read.lastName),
          phone: phoneNumberOf(read.phone),
        }
      );
    } catch (error) {
      notice.failed(error);
      return undefined;
    }
  };

  /** The phone resource's number; an async answer lands in `phones` for the next read. */
  const readPhone = (player: number): string | null => {
    const known = phones.get(player);
    const source = phone;
    const notice = phoneNotice;
    if (known !== undefined || !source || !notice) return known ?? null;
    const lookup = asking.get(player);
    if (lookup && deps.now() - lookup.since < STALE_LOOKUP_MS) return null;
    const asked = generation;
    try {
      if (host.resourceState(source.resource) !== 'started') return null;
      const answer = source.number(host, player);
      // A synchronous answer is asked again each time: the equipped phone may change.
      if (!(answer instanceof Promise)) {
        notice.answered();
        return answer;
      }
      const settled = answer.then(
        (number) => {
          if (asked !== generation) return null;
          asking.delete(player);
          notice.answered();
          if (number === null || !deps.players().includes(player)) return null;
          phones.set(player, number);
          const cached = cache.get(player);
          if (cached && cached.phone === null) cached.phone = number;
          return number;
        },
        (error: unknown) => {
          if (asked !== generation) return null;
          asking.delete(player);
          notice.failed(error);
          return null;
        },
      );
      asking.set(player, { answer: settled, since: deps.now() });
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

  const flush = (): void => {
    const players = [...pending];
    pending.clear();
    const here = new Set(deps.players());
    for (const player of players) if (here.has(player)) refresh(player);
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
    /** One of the framework's events fired: read its player again (once per burst), or forget them. */
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
        if (e.unload) {
          // Another character may load next: nothing of this one may stay.
          cache.delete(player);
          phones.delete(player);
          asking.delete(player);
          pending.delete(player);
        } else if (!pending.has(player)) {
          pending.add(player);
          if (pending.size === 1) deps.defer(flush);
        }
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
      return asking.get(player)?.answer ?? null;
    },
    /** What was last read of a player, without asking again. */
    cached(player: number): Character | null {
      return cache.get(player) ?? null;
    },
    /** Reads every connected player again (at start, after the framework restarts, periodically). */
    sweep(): void {
      const here = new Set(deps.players());
      for (const player of cache.keys()) if (!here.has(player)) cache.delete(player);
      if (!adapter && !phone) return;
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
        (source ? inventoryNotice : itemsNotice)?.answered();
        return total;
      } catch (error) {
        (source ? inventoryNotice : itemsNotice)?.failed(error);
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
