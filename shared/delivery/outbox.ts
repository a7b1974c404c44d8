/**
 * The durable side of the queue: one key-value record per accepted call, written before the
 * caller is told anything and deleted only after the CAD created it. Records carry a
 * version and are validated when read back; one that does not parse is set aside under
 * another key and reported, so a bad record can never stop the resource from starting.
 */
import { z } from 'zod';
import type { DispatchCall } from '../call/contract';
import { dispatchCallSchema } from '../call/contract';
import type { DeadLetter, Job, Payload } from './job';
import type { BudgetState, Journal } from './journal';

/** The store could not list keys right now (no KVP search handle free); try again later. */
export class KvpSearchBusy extends Error {
  override readonly name = 'KvpSearchBusy';
  constructor(prefix: string) {
    super(`no KVP search handle is free to list "${prefix}*" (StartFindKvp returned -1)`);
  }
}

/** The subset of resource KVP the outbox needs; a Map does for tests. */
export interface KeyValueStore {
  get(key: string): string | null;
  /** Must be durable when it returns (SetResourceKvp, not the NoSync variant). */
  set(key: string, value: string): void;
  delete(key: string): void;
  /** Throws KvpSearchBusy when the keys cannot be listed now; never answers [] instead. */
  keys(prefix: string): string[];
}

const CALL = 'outbox:call:';
const CORRUPT = 'outbox:corrupt:';
const BUDGET = 'outbox:budget';
const VERSION = 1;

const problemSchema = z.object({
  status: z.number().optional(),
  title: z.string().optional(),
  detail: z.string().optional(),
  traceId: z.string().optional(),
  requestId: z.string().optional(),
});

const budgetSchema = z.object({
  v: z.literal(VERSION),
  releases: z.array(z.number().finite()).max(10_000),
  pause: z.object({ until: z.number().finite(), reason: z.string() }).nullable(),
  skew: z.number().finite().optional(),
});

export interface Restored<M, P extends Payload = DispatchCall> {
  pending: Job<M, P>[];
  dead: DeadLetter<M, P>[];
  budget: BudgetState | null;
  /** One line per record that was set aside. */
  corrupt: string[];
}

/**
 * Where one lane keeps its jobs: the create-call lane under `outbox:call:` (the default), the
 * notes lane under its own prefix and budget key, so neither can read the other's records.
 */
export interface OutboxKeys<P> {
  /** Validates a saved request body. */
  payload: z.ZodType<P>;
  prefix: string;
  budgetKey: string;
}

export class Outbox<M, P extends Payload = DispatchCall> implements Journal<M, P> {
  private readonly recordSchema;
  private readonly prefix: string;
  private readonly budgetKey: string;

  constructor(
    private readonly store: KeyValueStore,
    metaSchema: z.ZodType<M>,
    keys?: OutboxKeys<P>,
  ) {
    this.prefix = keys?.prefix ?? CALL;
    this.budgetKey = keys?.budgetKey ?? BUDGET;
    this.recordSchema = z.object({
      v: z.literal(VERSION),
      state: z.enum(['pending', 'dead']),
      job: z.object({
        id: z.string().min(1).max(100),
        call: keys?.payload ?? dispatchCallSchema,
        meta: metaSchema,
        enqueuedAt: z.number().finite(),
        attempts: z.int().min(0),
        notBefore: z.number().finite(),
        seq: z.int().min(0),
        lastError: z.string().nullable(),
      }),
      dead: z
        // A time a Date can hold (±8.64e15 ms): the console prints it.
        .object({ reason: z.string(), problem: problemSchema, at: z.number().min(0).max(8.64e15) })
        .optional(),
    });
  }

  add(job: Job<M, P>): void {
    this.store.set(this.prefix + job.id, JSON.stringify({ v: VERSION, state: 'pending', job }));
  }

  remove(id: string): void {
    this.store.delete(this.prefix + id);
  }

  dead(letter: DeadLetter<M, P>): void {
    const { job, ...dead } = letter;
    this.store.set(this.prefix + job.id, JSON.stringify({ v: VERSION, state: 'dead', job, dead }));
  }

  budget(state: BudgetState): void {
    this.store.set(this.budgetKey, JSON.stringify({ v: VERSION, ...state }));
  }

  /** The saved budget and pause: a plain read, which cannot fail like a key search. */
  loadBudget(): BudgetState | null {
    const budget = budgetSchema.safeParse(safeJson(this.store.get(this.budgetKey) ?? 'null'));
    if (!budget.success) return null;
    const { releases, pause, skew } = budget.data;
    return { releases, pause, ...(skew !== undefined ? { skew } : {}) };
  }

  /**
   * Every saved call. Throws KvpSearchBusy when the store cannot list them right now.
   * Only a record under its own id's key is taken: `remove(id)` deletes that key alone, so a
   * record copied or edited by hand under another key would be sent again at every restart.
   * Keys are unique, so this also takes at most one record per id.
   */
  load(): Restored<M, P> {
    const restored: Restored<M, P> = { pending: [], dead: [], budget: null, corrupt: [] };
    for (const key of new Set(this.store.keys(this.prefix))) {
      const raw = this.store.get(key);
      if (raw === null) continue;
      const parsed = this.recordSchema.safeParse(safeJson(raw));
      if (!parsed.success) {
        const why = parsed.error.issues[0];
        const where = why && why.path.length > 0 ? ` at ${why.path.join('.')}` : '';
        restored.corrupt.push(this.setAside(key, raw, `${why?.message ?? 'unreadable'}${where}`));
        continue;
      }
      const { state, job, dead } = parsed.data;
      if (key !== this.prefix + job.id) {
        restored.corrupt.push(
          this.setAside(
            key,
            raw,
            `holds call ${job.id}, which belongs under ${this.prefix}${job.id}`,
          ),
        );
        continue;
      }
      const typed = job as unknown as Job<M, P>;
      if (state === 'dead')
        restored.dead.push({ job: typed, ...(dead ?? { reason: 'unknown', problem: {}, at: 0 }) });
      else restored.pending.push(typed);
    }
    restored.pending.sort((a, b) => a.seq - b.seq);
    restored.budget = this.loadBudget();
    return restored;
  }

  /** Moves a record out of the way, never over one set aside before; says where it went. */
  private setAside(key: string, raw: string, why: string): string {
    const name = key.slice(this.prefix.length);
    let aside = CORRUPT + name;
    for (let n = 2; this.store.get(aside) !== null; n++) aside = `${CORRUPT}${name}~${n}`;
    this.store.set(aside, raw);
    this.store.delete(key);
    return `${key}: ${why}; kept as ${aside}`;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A KeyValueStore over a Map, for tests and the benchmark. */
export class MemoryStore implements KeyValueStore {
  readonly map = new Map<string, string>();
  writes = 0;
  get(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  set(key: string, value: string): void {
    this.writes++;
    this.map.set(key, value);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  keys(prefix: string): string[] {
    return [...this.map.keys()].filter((k) => k.startsWith(prefix));
  }
}
