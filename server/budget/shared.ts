/**
 * A budget several servers on one API key share through Redis (config `sharedBudget`). The
 * CAD's limits are per key, so every lane (creating calls, adding notes) of every server
 * counts in one rolling log per lane, changed only by the Lua script in script.ts.
 *
 * What Redis holds is only budget and tickets: each server's outbox stays local, so Redis
 * losing data can never lose or duplicate a call. The rules that keep the window safe:
 * - Shared: a request needs a slot from the log, which holds `reserve` back, and yields to a
 *   more urgent (or equally urgent and older) call waiting on any live server.
 * - Each server holds a lease. One that lost Redis stops sending until its lease has lapsed
 *   (the others then count its share as used), then sends on its share: the limit less the
 *   reserve, divided by the servers last seen. Coming back, it puts its sends into the log.
 * - A log found empty (Redis restarted or failed over) is young: for one window every server
 *   sends on its share, logging each request, and puts its own recent sends back; after that
 *   window the log holds everything inside it again.
 * Everything that touches the world is injected, so tests and the bench drive it directly.
 */

import type { BudgetGate, Grant, Want } from '../../shared/delivery/gate';
import type { Timers } from '../../shared/delivery/scheduler';

/** Runs BUDGET_SCRIPT with these keys and arguments (EVALSHA, EVAL on NOSCRIPT). */
export interface BudgetRedis {
  run(keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /** Connected now; false while it reconnects (no command would leave). @default true */
  ready?(): boolean;
}

export interface SharedBudgetOptions {
  /** This server's name, unique among the servers on the key. */
  name: string;
  /** Requests per window held back from the shared budget, for a failover. */
  reserve: number;
  /** Prefix of every key, with the hash tag: `s911:{<hash of the API key>}:`. */
  keyPrefix: string;
  /** @default 10000 */
  leaseMs?: number;
  /** @default a third of the lease */
  renewMs?: number;
  /** A server whose lease lapsed this long ago is forgotten. @default 10 minutes */
  forgetMs?: number;
  /** How soon a server behind a more urgent call elsewhere asks again. @default 250 */
  pollMs?: number;
}

export interface SharedBudgetDeps {
  redis: BudgetRedis;
  /** The schedulers' clock. */
  now(): number;
  timers: Timers;
  random(): number;
  log: { info(message: string): void; warn(message: string): void };
  /** How many servers were last seen, kept across restarts: the share when Redis is away at start. */
  servers: { load(): number | null; save(count: number): void };
}

export interface LaneSpec {
  /** 'calls' or 'notes', for status lines. */
  name: string;
  requests: number;
  windowMs: number;
  marginMs: number;
  /** The request timeout: how late an answer can come. */
  maxRequestMs: number;
}

export type BudgetMode =
  /** Starting: the first hello is out. */
  | 'connecting'
  /** The shared log decides. */
  | 'shared'
  /** The log is younger than a window: this server's share, every request logged. */
  | 'settling'
  /** Redis is away and this server's lease may still be live: nothing is sent. */
  | 'fenced'
  /** Redis is away: this server's share, counted here. */
  | 'local';

export interface SharedBudgetStatus {
  mode: BudgetMode;
  name: string;
  /** Servers remembered (this one included) and how many of them hold a live lease. */
  servers: number;
  live: number;
  /** How many servers a share is split between: the servers last seen, at least 2. */
  splitBetween: number;
  /** Per lane: what this server may send on its own now, and the log's count at last renew. */
  lanes: { name: string; ownLimit: number; shared: number; usedShared: number | null }[];
  /** When the mode began; fenced or local: when Redis failed (scheduler clock). */
  since: number;
  /** fenced: when this server goes on at its share. */
  fencedUntil: number | null;
  /** settling: when the shared budget takes over. */
  settledAt: number | null;
}

interface OwnRequest {
  /** When it was sent (scheduler clock). */
  start: number;
  /** When its window starts: its answer plus the margin; null while in flight. */
  release: number | null;
  /** The shared log holds it. */
  logged: boolean;
}

interface Lane {
  index: number;
  spec: LaneSpec;
  own: Map<string, OwnRequest>;
  /** The urgency score last published; undefined: nothing published yet. */
  published: number | null | undefined;
  usedShared: number | null;
  subscribers: (() => void)[];
}

type Reply = [string, number, ...unknown[]];

const PRIORITY_SCALE = 1e13;
/** A round trip this quick reads Redis' clock well enough (to within half of it). */
const MAX_GOOD_ERROR_MS = 100;
/** Aging can take a call below priority 1; the score keeps it positive to this depth. */
const PRIORITY_FLOOR = -99;

export class SharedBudget {
  private mode: BudgetMode = 'connecting';
  private since: number;
  private readonly lanes: Lane[] = [];
  private readonly keys: string[];
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly forgetMs: number;
  private readonly pollMs: number;
  /** Redis time minus our time, and how far off that may be (half the round trip it came from). */
  private offset = 0;
  private offsetError = Number.POSITIVE_INFINITY;
  /** When the last hello or renew was sent: the latest a lease Redis holds for us can end is this plus the lease. */
  private leaseSentAt: number;
  private leaseOffset = 0;
  private leaseError = Number.POSITIVE_INFINITY;
  private epoch: string | null = null;
  private settledAt: number | null = null;
  /** When the epoch began (Redis found empty), on our clock. */
  private bornAt = 0;
  private fencedUntil: number | null = null;
  private roster: { name: string; live: boolean; count: number }[] = [];
  private count: number;
  /** A lower server count waiting to be stored in Redis, then read by the others. */
  private lower: { count: number; storedAt: number | null } | null = null;
  private seq = 0;
  private readonly boot: string;
  private timer: unknown = null;
  private modeTimer: unknown = null;
  private helloing: Promise<boolean> | null = null;
  private stopped = false;
  /** A hello has succeeded in this run: stopping says goodbye. */
  private registered = false;
  /** The last failure was said; said again only after Redis answered. */
  private troubleSaid = false;
  /** When Redis last failed us (scheduler clock). */
  private troubleSince: number | null = null;

  constructor(
    private readonly deps: SharedBudgetDeps,
    private readonly options: SharedBudgetOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 10_000;
    this.renewMs = options.renewMs ?? Math.floor(this.leaseMs / 3);
    this.forgetMs = options.forgetMs ?? 10 * 60_000;
    this.pollMs = options.pollMs ?? 250;
    const p = options.keyPrefix;
    this.keys = [`${p}meta`, `${p}servers`];
    this.since = deps.now();
    // A lease from a run that crashed may still be live: wait it out if Redis is away now.
    this.leaseSentAt = this.since;
    this.count = Math.max(2, deps.servers.load() ?? 2);
    this.boot = Math.floor(deps.random() * 36 ** 6).toString(36);
  }

  /** One lane's gate; lanes are added before `start`. At most two (calls, notes). */
  lane(spec: LaneSpec): BudgetGate {
    if (this.lanes.length >= 2) throw new Error('a shared budget has two lanes at most');
    const lane: Lane = {
      index: this.lanes.length + 1,
      spec,
      own: new Map(),
      published: undefined,
      usedShared: null,
      subscribers: [],
    };
    this.lanes.push(lane);
    const p = this.options.keyPrefix;
    this.keys.push(`${p}log:${spec.name}`, `${p}wait:${spec.name}`);
    return {
      ownLimit: () => this.ownLimit(lane),
      reserve: (want) => this.reserve(lane, want),
      release: (ticket) => this.release(lane, ticket),
      cancel: (ticket) => this.cancel(lane, ticket),
      publish: (want) => this.publish(lane, want),
      restored: (releases) => this.restored(lane, releases),
      subscribe: (fn) => {
        lane.subscribers.push(fn);
      },
    };
  }

  start(): void {
    void this.hello();
    this.schedule();
  }

  /** Says goodbye (our lease ends now, so no one waits for it) and stops every timer. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.deps.timers.clear(this.timer);
    if (this.modeTimer !== null) this.deps.timers.clear(this.modeTimer);
    this.timer = null;
    this.modeTimer = null;
    // A hello on its way may still register us: wait for it, so the bye comes after.
    await this.helloing?.catch(() => false);
    if (this.registered || this.mode === 'shared' || this.mode === 'settling') {
      await this.call(['bye', this.options.name]).catch(() => undefined);
    }
  }

  status(): SharedBudgetStatus {
    return {
      mode: this.mode,
      name: this.options.name,
      servers: this.roster.length > 0 ? this.roster.length : this.count,
      live: this.roster.filter((s) => s.live).length,
      splitBetween: this.count,
      lanes: this.lanes.map((l) => ({
        name: l.spec.name,
        ownLimit: this.ownLimit(l),
        shared: this.sharedLimit(l),
        usedShared: l.usedShared,
      })),
      since:
        (this.mode === 'local' || this.mode === 'fenced' ? this.troubleSince : null) ?? this.since,
      fencedUntil: this.mode === 'fenced' ? this.fencedUntil : null,
      settledAt: this.mode === 'settling' ? this.settledAt : null,
    };
  }

  private sharedLimit(lane: Lane): number {
    return Math.max(0, lane.spec.requests - this.options.reserve);
  }

  /**
   * What one server may send alone while the log cannot decide: the shared limit split by
   * the servers last seen, and never more than the others' own shares (as each last stored
   * its count) leave over, so servers that briefly count differently (one just joined) still
   * add up to the limit.
   */
  private share(lane: Lane): number {
    const limit = this.sharedLimit(lane);
    const others = this.roster
      .filter((s) => s.name !== this.options.name)
      .reduce((sum, s) => sum + Math.floor(limit / Math.max(1, s.count)), 0);
    return Math.max(0, Math.min(Math.floor(limit / Math.max(1, this.count)), limit - others));
  }

  private ownLimit(lane: Lane): number {
    switch (this.mode) {
      case 'shared':
        return this.sharedLimit(lane);
      case 'settling':
        return this.young(lane) ? this.share(lane) : this.sharedLimit(lane);
      case 'local':
        return this.share(lane);
      default:
        return 0;
    }
  }

  private async reserve(lane: Lane, want: Want): Promise<Grant> {
    const ticket = `${this.options.name}.${this.boot}.${++this.seq}`;
    const now = this.deps.now();
    this.prune(lane, now);
    if (this.mode === 'local') {
      // A hello on its way may make Redis count us live any moment; what we sent meanwhile
      // would be in no log. Its end (either way) wakes the scheduler.
      if (this.helloing !== null) return { ok: false, retryAt: null };
      lane.own.set(ticket, { start: now, release: null, logged: false });
      return { ok: true, ticket };
    }
    if (this.mode !== 'shared' && this.mode !== 'settling') return { ok: false, retryAt: null };
    const { spec } = lane;
    const op = this.young(lane) ? 'record' : 'reserve';
    let reply: Reply;
    const sent = this.deps.now();
    try {
      reply = await this.call([
        op,
        this.options.name,
        this.epoch ?? '',
        lane.index,
        ticket,
        spec.maxRequestMs + spec.marginMs,
        spec.windowMs,
        this.sharedLimit(lane),
        this.score(want),
        this.forgetMs,
        this.pollMs,
      ]);
    } catch (err) {
      this.failed(err);
      return { ok: false, retryAt: null };
    }
    const received = this.deps.now();
    this.clock(reply[1], sent, received);
    switch (reply[0]) {
      case 'ok':
        lane.own.set(ticket, { start: sent, release: null, logged: true });
        // A grant takes our wait off the list: the next call's must go up even if it scores
        // the same (queued in the same instant).
        if (op === 'reserve') lane.published = undefined;
        return { ok: true, ticket };
      case 'hello':
        // Redis lost our registration (restarted, or our lease lapsed): hello, then ask again.
        return (await this.hello())
          ? { ok: false, retryAt: received }
          : { ok: false, retryAt: null };
      default: {
        // behind or full: ask again when Redis says, a little spread so servers do not collide.
        const at = Number(reply[2]) - this.offset + Math.floor(this.deps.random() * 20);
        return { ok: false, retryAt: Math.max(received, at) };
      }
    }
  }

  private release(lane: Lane, ticket: string): void {
    const own = lane.own.get(ticket);
    if (!own) return;
    own.release = this.deps.now() + lane.spec.marginMs;
    if (own.logged && (this.mode === 'shared' || this.mode === 'settling')) {
      // Failing here leaves the request counted until its latest possible answer: safe.
      this.call(['release', this.options.name, lane.index, ticket, lane.spec.marginMs]).catch(
        (err) => this.failed(err),
      );
    }
  }

  private cancel(lane: Lane, ticket: string): void {
    const own = lane.own.get(ticket);
    if (!own) return;
    lane.own.delete(ticket);
    if (own.logged && (this.mode === 'shared' || this.mode === 'settling')) {
      this.call(['cancel', this.options.name, lane.index, ticket]).catch((err) => this.failed(err));
    }
  }

  private publish(lane: Lane, want: Want | null): void {
    const score = want === null ? null : this.score(want);
    if (score === lane.published || this.mode === 'fenced' || this.mode === 'local') return;
    if (this.mode === 'connecting' || this.young(lane)) return;
    lane.published = score;
    this.call(['publish', this.options.name, lane.index, score ?? '']).catch((err) =>
      this.failed(err),
    );
  }

  private restored(lane: Lane, releases: readonly number[]): void {
    const now = this.deps.now();
    for (const release of releases) {
      if (release + lane.spec.windowMs <= now) continue;
      const ticket = `${this.options.name}.${this.boot}.r${++this.seq}`;
      lane.own.set(ticket, { start: release, release, logged: false });
    }
    // Already on Redis (the outbox came back after the first hello): put them in now. Under
    // new names, so they may count twice for the rest of their window: late, never early.
    if (this.mode === 'shared' || this.mode === 'settling') void this.hello();
  }

  /** Lower is more urgent: priority first (aging included), then the oldest, across servers. */
  private score(want: Want): number {
    const priority = Math.max(PRIORITY_FLOOR, Math.min(99, want.priority)) - PRIORITY_FLOOR;
    return priority * PRIORITY_SCALE + Math.max(0, Math.round(want.since + this.offset));
  }

  /** Requests whose window is over are no longer ours to put back. */
  private prune(lane: Lane, now: number): void {
    const { windowMs, maxRequestMs, marginMs } = lane.spec;
    for (const [ticket, own] of lane.own) {
      const end = own.release ?? own.start + maxRequestMs + marginMs;
      if (end + windowMs <= now) lane.own.delete(ticket);
    }
  }

  /** Registers in the current epoch (making one if Redis is empty) and puts our sends back. */
  private hello(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    this.helloing ??= this.doHello().finally(() => {
      this.helloing = null;
      // Whatever came of it, a scheduler waiting to be told asks again.
      this.notify();
    });
    return this.helloing;
  }

  private async doHello(): Promise<boolean> {
    // Redis' clock first: the lease is given as an end on it.
    if (!Number.isFinite(this.offsetError) && !(await this.measureClock())) return false;
    // Nothing is granted on our share while it is out (reserve), so it carries every request.
    const reply = await this.helloOnce();
    if (reply === null || this.stopped) return false;
    this.registered = true;
    const fresh = Number(reply[4]) === 1;
    const received = this.deps.now();
    const newEpoch = this.epoch !== null && this.epoch !== String(reply[2]);
    this.epoch = String(reply[2]);
    this.takeRoster(reply[6]);
    // Each lane's log is whole again once it is one of its windows old.
    // Late rather than early by what we do not know of Redis' clock.
    this.bornAt = Number(reply[3]) - this.offset + this.offsetError;
    const window = Math.max(0, ...this.lanes.map((l) => l.spec.windowMs));
    const settledAt = this.bornAt + window;
    if (fresh || newEpoch) {
      this.deps.log.warn(
        `shared budget: Redis held no budget for this key (new, restarted or failed over); until ${clockTime(settledAt, received)} every server sends on its share, then the shared budget`,
      );
    }
    if (received < settledAt) {
      this.settledAt = settledAt;
      this.enter('settling');
      this.settleLanes(received);
    } else {
      this.enter('shared');
    }
    return true;
  }

  /** Wakes the schedulers as each lane's log comes of age; the last one ends settling. */
  private settleLanes(now: number): void {
    if (this.modeTimer !== null) this.deps.timers.clear(this.modeTimer);
    this.modeTimer = null;
    if (this.mode !== 'settling') return;
    const next = Math.min(
      ...this.lanes.map((l) => this.bornAt + l.spec.windowMs).filter((t) => t > now),
    );
    if (!Number.isFinite(next)) {
      this.enter('shared');
      return;
    }
    this.modeTimer = this.deps.timers.set(() => {
      this.modeTimer = null;
      this.notify();
      this.settleLanes(this.deps.now());
    }, next - now);
  }

  /** The lane's shared log may still miss requests sent before Redis lost it. */
  private young(lane: Lane): boolean {
    return this.mode === 'settling' && this.deps.now() < this.bornAt + lane.spec.windowMs;
  }

  /** One hello: registers, puts back what it carries, marks exactly that as logged. */
  private async helloOnce(): Promise<Reply | null> {
    const now = this.deps.now();
    const remembered = this.roster.filter((s) => s.name !== this.options.name);
    const seeds: (string | number)[] = [];
    const carried: OwnRequest[] = [];
    for (const lane of this.lanes) {
      this.prune(lane, now);
      const { maxRequestMs, marginMs } = lane.spec;
      for (const [ticket, own] of lane.own) {
        const end = own.release ?? own.start + maxRequestMs + marginMs;
        seeds.push(lane.index, ticket, Math.ceil(end - now));
        carried.push(own);
      }
    }
    const epochId = `${Math.floor(this.deps.random() * 36 ** 8).toString(36)}`;
    const answer = await this.leaseCommand((leaseEnd) => [
      'hello',
      this.options.name,
      epochId,
      leaseEnd,
      this.count,
      this.forgetMs,
      remembered.length,
      ...remembered.flatMap((s) => [s.name, s.count, s.live ? 1 : 0]),
      ...seeds,
    ]);
    if (answer === null) return null;
    for (const own of carried) own.logged = true;
    return answer.reply;
  }

  /**
   * Sends a hello or renew, which asks for a lease ending at `leaseEnd`. Null when it failed
   * (said through `failed`, which fences for as long as the lease may have been stored), when
   * it came too late to be stored, or when we stopped meanwhile.
   */
  private async leaseCommand(
    args: (leaseEnd: number) => (string | number)[],
  ): Promise<{ reply: Reply; received: number } | null> {
    const before = this.leaseMark();
    const sent = this.deps.now();
    let reply: Reply;
    try {
      reply = await this.call(args(this.leaseEnd()));
    } catch (err) {
      this.unsent(err, before);
      this.failed(err);
      return null;
    }
    if (this.stopped) return null;
    const received = this.deps.now();
    this.clock(reply[1], sent, received);
    if (reply[0] === 'late') {
      this.failed(new Error('Redis answered too late'));
      return null;
    }
    return { reply, received };
  }

  /** Reads Redis' clock once, for a first lease end. */
  private async measureClock(): Promise<boolean> {
    const sent = this.deps.now();
    try {
      const reply = await this.call(['time', this.options.name]);
      this.clock(reply[1], sent, this.deps.now());
      return true;
    } catch (err) {
      this.failed(err);
      return false;
    }
  }

  /**
   * Our lease's end on Redis' clock, as a whole number (the script stores it as text), for a
   * hello or renew about to be sent. Remembers when, and how well we knew Redis' clock then:
   * the fence counts from the latest such command that may have reached Redis.
   */
  private leaseEnd(): number {
    this.leaseSentAt = this.deps.now();
    this.leaseOffset = this.offset;
    this.leaseError = this.offsetError;
    return Math.round(this.leaseSentAt + this.offset + this.leaseMs);
  }

  private leaseMark(): { at: number; offset: number; error: number } {
    return { at: this.leaseSentAt, offset: this.leaseOffset, error: this.leaseError };
  }

  /** The command never left (no connection): the lease it asked for was never stored. */
  private unsent(err: unknown, before: { at: number; offset: number; error: number }): void {
    if (!(err instanceof Error && (err as { unsent?: boolean }).unsent)) return;
    this.leaseSentAt = before.at;
    this.leaseOffset = before.offset;
    this.leaseError = before.error;
  }

  /** The latest our lease, as Redis may hold it, can end, on our clock. */
  private leaseLapsesAt(): number {
    // The end was reckoned with leaseOffset, known to within leaseError; what we know of
    // Redis' clock now bounds that error too, when it is better.
    const now = Number.isFinite(this.offsetError)
      ? this.offsetError + Math.abs(this.leaseOffset - this.offset)
      : Number.POSITIVE_INFINITY;
    const error = Math.min(this.leaseError, now);
    // + 1: the end was rounded to a whole millisecond.
    return this.leaseSentAt + this.leaseMs + (Number.isFinite(error) ? error : 0) + 1 + 250;
  }

  /**
   * The servers Redis remembers. Their count sets the share; it only falls while the shared log
   * decides (a server retired), never while a young log or a lost Redis makes shares count: a
   * server first on a fresh log must not take the whole budget as its share before the others
   * have said hello.
   */
  private takeRoster(raw: unknown): void {
    const flat = Array.isArray(raw) ? raw : [];
    const roster: SharedBudget['roster'] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      roster.push({
        name: String(flat[i]),
        live: Number(flat[i + 1]) === 1,
        count: Number(flat[i + 2]),
      });
    }
    this.roster = roster;
    // Never below 2: a server alone would otherwise store a share of the whole budget, and
    // one that joins (or starts while Redis is away) would count that against itself.
    const seen = Math.max(2, roster.length);
    // Fewer servers: only once Redis holds our lower count and every other server has had a
    // heartbeat to read it, since each counts our share as Redis holds it (see beat).
    if (this.mode === 'shared' && seen < this.count) {
      if (this.lower?.count !== seen) this.lower = { count: seen, storedAt: null };
      return;
    }
    this.lower = null;
    const count = Math.max(seen, this.count);
    if (count !== this.count) {
      this.count = count;
      this.deps.servers.save(count);
    }
  }

  /** The lease heartbeat; while Redis is away, the attempt to come back. */
  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.deps.timers.set(() => {
      this.timer = null;
      void this.beat().finally(() => this.schedule());
    }, this.renewMs);
  }

  private async beat(): Promise<void> {
    if (this.mode !== 'shared' && this.mode !== 'settling') {
      // While the connection is down a hello could only wait and fail, and our share waits
      // for every hello (reserve): try once the client has reconnected.
      if (this.deps.redis.ready?.() === false && this.mode !== 'connecting') return;
      await this.hello();
      return;
    }
    const answer = await this.leaseCommand((leaseEnd) => [
      'renew',
      this.options.name,
      this.epoch ?? '',
      leaseEnd,
      this.lower?.count ?? this.count,
      this.forgetMs,
      ...this.lanes.flatMap((l) => [l.index, l.spec.windowMs]),
    ]);
    if (answer === null) return;
    const { reply, received } = answer;
    if (reply[0] === 'hello') {
      await this.hello();
      return;
    }
    const lower = this.lower;
    if (lower !== null && lower.storedAt === null) lower.storedAt = received;
    else if (lower !== null && received - lower.storedAt! >= 2 * this.renewMs) {
      this.lower = null;
      this.count = lower.count;
      this.deps.servers.save(lower.count);
    }
    this.takeRoster(reply[6]);
    const used = Array.isArray(reply[7]) ? reply[7] : [];
    this.lanes.forEach((lane, i) => {
      lane.usedShared = used[i] === undefined ? null : Number(used[i]);
    });
    // The share may have changed with the roster; a waiting scheduler asks again.
    this.notify();
  }

  /** Redis failed us: stop sending until our lease has lapsed, then go on at our share. */
  private failed(err: unknown): void {
    if (this.stopped) return;
    if (!this.troubleSaid) {
      this.troubleSaid = true;
      this.troubleSince = this.deps.now();
      const reason = err instanceof Error ? err.message : String(err);
      this.deps.log.warn(
        `shared budget: Redis cannot be reached (${reason}); calls are kept, and this server sends on its share (${this.lanes.map((l) => `${this.share(l)} ${l.spec.name}`).join(', ')} a window, ${this.count} servers last seen) until it answers again`,
      );
    }
    const now = this.deps.now();
    // Until our lease lapses, the others count the log alone, not our share. Any hello or
    // renew that may have reached Redis (its answer lost, not its command) may have given us
    // a lease: so also when already fenced or on our share, a hello from there may have landed.
    const until = Math.max(now, this.leaseLapsesAt());
    if (this.mode === 'local' && until <= now) return;
    if (this.mode === 'fenced' && this.fencedUntil !== null && until <= this.fencedUntil) return;
    if (this.modeTimer !== null) this.deps.timers.clear(this.modeTimer);
    this.fencedUntil = until;
    this.enter('fenced');
    this.modeTimer = this.deps.timers.set(() => {
      this.modeTimer = null;
      if (this.mode === 'fenced') this.enter('local');
    }, until - now);
  }

  private enter(mode: BudgetMode): void {
    if (this.mode === mode) return;
    const was = this.mode;
    this.mode = mode;
    this.since = this.deps.now();
    for (const lane of this.lanes) lane.published = undefined;
    if ((was === 'fenced' || was === 'local') && (mode === 'shared' || mode === 'settling')) {
      this.troubleSaid = false;
      this.deps.log.info(
        `shared budget: Redis answers again; ${mode === 'shared' ? 'back on the shared budget' : 'on its share until the log is a window old'} (${this.count} servers)`,
      );
    } else if (was === 'connecting' && (mode === 'shared' || mode === 'settling')) {
      this.deps.log.info(
        `shared budget: on Redis as "${this.options.name}" with ${this.roster.length} server${this.roster.length === 1 ? '' : 's'} (${this.roster.map((s) => s.name).join(', ')})`,
      );
    }
    this.notify();
  }

  private notify(): void {
    for (const lane of this.lanes) for (const fn of lane.subscribers) fn();
  }

  /**
   * Redis' clock against ours, from one round trip. A slow one (a reconnect, a busy link) says
   * little: it is taken only when it is no worse than what we have, or quick anyway.
   */
  private clock(redisNow: number, sent: number, received: number): void {
    const error = Math.max(0, received - sent) / 2;
    if (error > this.offsetError && error > MAX_GOOD_ERROR_MS) return;
    this.offset = Number(redisNow) - (sent + received) / 2;
    this.offsetError = error;
  }

  private async call(args: (string | number)[]): Promise<Reply> {
    const reply = await this.deps.redis.run(this.keys, args);
    if (!Array.isArray(reply) || typeof reply[0] !== 'string') {
      throw new Error('Redis answered the budget script with something unexpected');
    }
    return reply as Reply;
  }
}

/** HH:MM:SS UTC of a scheduler-clock time, as `sonoran911 status` prints times. */
function clockTime(at: number, now: number): string {
  return `${new Date(Date.now() + (at - now)).toISOString().slice(11, 19)} UTC`;
}
