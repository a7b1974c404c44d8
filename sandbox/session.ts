/**
 * One sandbox: the built resource in the FXServer emulator, a nearest-postal resource with
 * demo data, and a local CAD stand-in (or a real CAD). `run(line)` executes one sandbox
 * command; what players read, what the CAD receives and what the resource prints are
 * written out as they happen.
 *
 * With `servers: 2` or 3, each server is an emulator of its own (s1, s2, s3) with its own
 * players, KVP and console, all on one API key against one CAD; with a local redis-server
 * (started here when one is installed) they share the key's budget (sharedBudget). Commands
 * go to the current server (`server 2` switches, `@2 <command>` sends one); those acting on
 * the CAD, Redis or the clock are global.
 */
import { randomUUID } from 'node:crypto';
import { type CadRequest, type LocalCad, startLocalCad } from './cad';
import { FxServer, type Player } from './emulator';
import { FRAMEWORK_STAND_INS } from './frameworks';
import { npwd } from './frameworks/phones';
import type { FrameworkStandIn } from './frameworks/types';
import { DEMO_POSTALS, nearestPlace, PLACES } from './places';
import { SonorancadStandIn } from './sonorancad';
import { findRedisServer, type RedisProcess, startRedis } from './support/redis';

export const RESOURCE = 'sonoran-911';

/** The local CAD stand-in's budget per key (its default). */
const CAD_LIMIT = { requests: 20, windowMs: 60_000 };

export interface SessionOptions {
  serverJs: string;
  clientJs: string;
  /** config.json as text; null runs on the resource's defaults. */
  configText: string | null;
  /** A real CAD: its base URL and API key. Without it a local stand-in is started. */
  realCad?: { url: string; apiKey: string };
  /** Extra resource files the config names (a postals.file, say). */
  files?: Record<string, string>;
  out: (line: string) => void;
  color: boolean;
  /**
   * Run the sonorancad stand-in (Sonoran's own resource, raising the CAD's push events)
   * before ours, as a server would list it in server.cfg. Default true.
   */
  sonorancad?: boolean;
  /**
   * Servers on the one key and CAD, 1 to 3 (default 1). With more than one they share the
   * key's budget through a local redis-server when one is installed.
   */
  servers?: number;
}

export type RunResult = { ok: true } | { ok: false; error: string };

const HELP = [
  'framework qbx|qb|esx|ox|nd   start a framework stand-in (before anyone joins)',
  'join <name> [x y z] [--job police] [--type leo] [--duty on|off] [--phone 555-0101]',
  '                          a player connects (default: Legion Square); with a framework',
  '                          their character logs in with that job',
  'down <player> [off]       the player is downed (or revived), as the medical resource does',
  'cuff <player> [off]       the player is handcuffed (or freed), as the police resource does',
  'duty <player> on|off      the player goes on or off duty',
  'as <player> /911 <text>   the player types any configured command',
  'move <player> x y z       the player goes somewhere else',
  'leave <player>            the player disconnects',
  'status                    the resource\'s own "sonoran911 status"',
  'sonoran911 <args>         any operator command (queue, dead, retry, drop)',
  'cad                       the calls the CAD has, with their fields',
  'requests                  what the CAD counted for the key: answers, 429s, most in a window',
  'outage on|off             the CAD answers 503 to everything, or recovers',
  'attach <callId> [unit]    a dispatcher attaches a unit to the call (sonorancad passes it on)',
  'close <callId>            a dispatcher closes the call (sonorancad passes it on)',
  "limit <n>                 another resource spends n requests of the key's budget now",
  'restart                   stop and start the resource over the same KVP',
  'wait <seconds>            let time pass',
  'expect <player|cad> <regex> [seconds]   wait until a chat line (or a CAD call) matches',
  "expect log <regex> [seconds]            wait until the server's console prints a match",
  'expect requests <regex> [seconds]       wait until the "requests" line matches',
  'places                    named places for join and move',
  'help, quit',
];

const HELP_SERVERS = [
  'server [n]                send the commands to server n (the prompt shows it); alone, list them',
  '@<n> <command>            one command on server n, e.g. @2 join Ana, @2 status',
  '                          (a player is found on any server; cad, outage, attach, close,',
  '                          limit, requests, redis and wait are the same on every server)',
  'redis kill|start          Redis crashes (its data is lost), or starts again, empty',
];

/** One emulated FXServer: its own players, KVP, console and stand-ins. */
interface Side {
  /** s1, s2, s3: also its sharedBudget name. */
  name: string;
  fx: FxServer;
  players: Map<string, Player>;
  printedLogs: number;
  printedChat: Map<number, number>;
  /** The blips each player had at the last flush, to print what appeared and went. */
  printedBlips: Map<number, Set<number>>;
  framework: FrameworkStandIn | null;
  /** The sonorancad stand-in runs: closes and attachments reach the resource through it. */
  sonorancad: boolean;
  /** Calls in sonorancad's cache (put there once, as its poll would). */
  cachedCalls: Set<number>;
}

export class Session {
  private readonly sides: Side[] = [];
  /** Where commands without an @ go. */
  private current = 0;
  private cad: LocalCad | null = null;
  private redis: RedisProcess | null = null;
  private printedRequests = 0;
  private pump: ReturnType<typeof setInterval> | null = null;
  /** Units attached with no name given: "Unit 1", "Unit 2", ... */
  private nextUnit = 1;
  private readonly paint: (code: string, text: string) => string;

  private constructor(
    private readonly options: SessionOptions,
    private readonly apiKey: string,
  ) {
    this.paint = (code, text) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  }

  /** The first server's emulator. */
  get fx(): FxServer {
    return this.sides[0]!.fx;
  }

  private get multi(): boolean {
    return this.sides.length > 1;
  }

  static async start(options: SessionOptions): Promise<Session> {
    const count = options.servers ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > 3) throw new Error('servers: 1, 2 or 3');
    const apiKey = options.realCad?.apiKey ?? `sandbox-${randomUUID()}`;
    const session = new Session(options, apiKey);
    let baseUrl = options.realCad?.url;
    if (!baseUrl) {
      session.cad = await startLocalCad({
        keys: { [apiKey]: { serverIds: [1] } },
        limit: CAD_LIMIT,
      });
      baseUrl = session.cad.url;
    }
    // One server keeps the config as it is; several share the budget when Redis is here.
    let shared: 'as-is' | 'redis' | 'none' = 'as-is';
    if (count > 1) {
      const binary = findRedisServer();
      if (binary) {
        session.redis = await startRedis({ binary });
        shared = 'redis';
      } else shared = 'none';
    }
    for (let i = 0; i < count; i++) {
      const name = `s${i + 1}`;
      const convars: Record<string, string> = { sonoran911_apiKey: apiKey };
      if (session.redis) convars.sonoran911_redisUrl = session.redis.url;
      const side: Side = {
        name,
        fx: new FxServer({ convars }),
        players: new Map(),
        printedLogs: 0,
        printedChat: new Map(),
        printedBlips: new Map(),
        framework: null,
        sonorancad: false,
        cachedCalls: new Set(),
      };
      session.sides.push(side);
      side.fx.startResource('nearest-postal', {
        files: { 'postals.json': JSON.stringify(DEMO_POSTALS) },
        metadata: { postal_file: ['postals.json'] },
      });
      // Before ours, as server.cfg lists it on a server that runs Sonoran's resource.
      if (options.sonorancad !== false) {
        await SonorancadStandIn.start(side.fx);
        side.sonorancad = true;
      }
      const config =
        shared === 'as-is'
          ? pointAt(options.configText, baseUrl)
          : pointAt(options.configText, baseUrl, shared === 'redis' ? name : null);
      side.fx.startResource(RESOURCE, {
        server: options.serverJs,
        client: options.clientJs,
        files: { ...options.files, 'config.json': config },
      });
    }
    session.say(
      'sandbox',
      `CAD: ${options.realCad ? `${baseUrl} (real, key from SONORAN911_API_KEY)` : `${baseUrl} (local stand-in, 20 requests per 60 s)`}`,
    );
    if (session.redis) {
      session.say(
        'sandbox',
        `${count} servers (${session.sides.map((s) => s.name).join(', ')}) on one API key share its budget through Redis at ${session.redis.url} (a local redis-server, nothing saved)`,
      );
    } else if (shared === 'none') {
      session.say(
        'sandbox',
        `redis-server is not installed: the ${count} servers run without sharedBudget, so the key's budget is NOT shared (each sends as if it had it alone; 429s are likely). To share it: sudo apt install redis-server`,
      );
    }
    session.flush();
    // Output from timers and HTTP answers appears while the prompt waits.
    session.pump = setInterval(() => session.flush(), 50);
    return session;
  }

  /** The prompt: which server the commands go to when there are several. */
  prompt(): string {
    return this.multi ? `sonoran-911 ${this.sides[this.current]!.name}> ` : 'sonoran-911> ';
  }

  async close(): Promise<void> {
    if (this.pump) clearInterval(this.pump);
    this.flush();
    for (const side of this.sides) side.fx.shutdown();
    await this.cad?.close();
    await this.redis?.stop();
  }

  /** Script errors the resource raised (a healthy run has none). */
  errors(): string[] {
    return this.sides.flatMap((side) =>
      side.fx.errors.map(
        (e) => `${this.multi ? `${side.name} ` : ''}${e.resource} ${e.where}: ${e.message}`,
      ),
    );
  }

  async run(line: string): Promise<RunResult> {
    const fail = (error: string): RunResult => ({ ok: false, error });
    let text = line.trim();
    let side = this.sides[this.current]!;
    const at = /^@(\S*)\s*(.*)$/.exec(text);
    if (at) {
      const picked = this.side(at[1]!);
      if (!picked) return fail(this.noServer(at[1]!));
      side = picked;
      text = at[2]!;
      // "@2" alone switches, as "server 2" does.
      if (text === '') return this.run(`server ${picked.name}`);
    }
    const words = text.split(/\s+/);
    const [verb = '', ...rest] = words;
    try {
      switch (verb.toLowerCase()) {
        case '':
          return { ok: true };
        case 'help':
          for (const h of HELP) this.say('help', h);
          if (this.multi) for (const h of HELP_SERVERS) this.say('help', h);
          return { ok: true };
        case 'places':
          for (const p of PLACES)
            this.say('places', `${p.name}: ${p.x} ${p.y} ${p.z} (${p.street}, ${p.zone.label})`);
          return { ok: true };
        case 'server': {
          if (rest[0] === undefined) {
            for (const [i, s] of this.sides.entries())
              this.say(
                'sandbox',
                `${s.name}${i === this.current ? ' (current)' : ''}: ${s.players.size} player(s)${s.framework ? `, ${s.framework.name}` : ''}`,
              );
            return { ok: true };
          }
          const picked = this.side(rest[0]);
          if (!picked) return fail(this.noServer(rest[0]));
          this.current = this.sides.indexOf(picked);
          if (this.multi) this.say('sandbox', `commands now go to ${picked.name}`);
          return { ok: true };
        }
        case 'framework': {
          const name = rest[0] as FrameworkStandIn['name'] | undefined;
          const standIn = name ? FRAMEWORK_STAND_INS[name] : undefined;
          if (!standIn) return fail('usage: framework qbx|qb|esx|ox|nd');
          if (side.framework) return fail(`${side.framework.name} is already running`);
          if (side.players.size > 0) return fail('start the framework before anyone joins');
          await standIn.start(side.fx);
          // ESX keeps no phone number: the phone resource does.
          if (standIn.name === 'esx') await npwd.start(side.fx);
          side.framework = standIn;
          await this.settle(side);
          this.say(
            'sandbox',
            `framework ${standIn.name} started (${standIn.resources.join(', ')})`,
            side,
          );
          return { ok: true };
        }
        case 'down':
        case 'cuff':
        case 'duty': {
          const [who, state] = rest;
          const found = who ? this.player(side, who) : null;
          if (!found)
            return fail(`usage: ${verb} <player> ${verb === 'duty' ? 'on|off' : '[off]'}`);
          const { player, side: home } = found;
          const fw = home.framework;
          if (!fw) return fail('no framework: start one first (framework qbx)');
          const on = state !== 'off';
          if (verb === 'down') await fw.setDead(home.fx, player, on);
          else if (verb === 'cuff') await fw.setCuffed(home.fx, player, on);
          else await fw.setDuty(home.fx, player, on);
          await this.settle(home);
          const [yes, no] =
            verb === 'down'
              ? ['down', 'up again']
              : verb === 'cuff'
                ? ['handcuffed', 'freed']
                : ['on duty', 'off duty'];
          this.say('sandbox', `${player.name} is ${on ? yes : no}`, home);
          return { ok: true };
        }
        case 'join': {
          const flags = parseFlags(rest);
          if (typeof flags === 'string') return fail(flags);
          const [name, ...xyz] = flags.words;
          if (!name)
            return fail(
              'usage: join <name> [x y z] [--job J] [--type T] [--duty on|off] [--phone N]',
            );
          const already = this.sides.find((s) => s.players.has(name.toLowerCase()));
          if (already)
            return fail(`${name} is already here${this.multi ? ` (on ${already.name})` : ''}`);
          const at = xyz.length > 0 ? coords(xyz) : [PLACES[0]!.x, PLACES[0]!.y, PLACES[0]!.z];
          if (!at) return fail('usage: join <name> [x y z] (three numbers)');
          const place = nearestPlace(at[0]!, at[1]!);
          const player = side.fx.addPlayer({
            name,
            identifiers: [`license:${hex(name)}`, `discord:${100000 + side.players.size}`],
            position: [at[0]!, at[1]!, at[2]!],
            heading: 90,
            street: place.street,
            crossing: place.crossing,
            zone: place.zone,
          });
          side.players.set(name.toLowerCase(), player);
          side.printedChat.set(player.id, 0);
          await this.settle(side);
          this.say(
            'sandbox',
            `${name} joined as player ${player.id} near ${place.name} (${place.street}, ${place.zone.label})`,
            side,
          );
          if (side.framework) await this.login(side, player, name, flags.values);
          else if (Object.keys(flags.values).length > 0)
            this.say(
              'sandbox',
              'no framework: --job, --duty and --phone need one (framework qbx)',
              side,
            );
          return { ok: true };
        }
        case 'as': {
          const [who, ...typed] = rest;
          const found = who ? this.player(side, who) : null;
          if (!found) return fail(`no player "${who ?? ''}" (join one first)`);
          const { player, side: home } = found;
          const command = typed.join(' ');
          if (!command.startsWith('/')) return fail('usage: as <player> /911 <text>');
          await home.fx
            .waitFor(() => player.hasClientCommand(command.slice(1).split(' ')[0] ?? ''), {
              what: `the command ${command.split(' ')[0]} on ${player.name}'s client`,
              timeoutMs: 2_000,
            })
            .catch(() => undefined);
          player.type(command);
          await this.settle(home);
          return { ok: true };
        }
        case 'move': {
          const [who, ...xyz] = rest;
          const found = who ? this.player(side, who) : null;
          const at = coords(xyz);
          if (!found || !at) return fail('usage: move <player> x y z');
          const { player, side: home } = found;
          const place = nearestPlace(at[0]!, at[1]!);
          player.move(at[0]!, at[1]!, at[2]!);
          player.street = place.street;
          player.crossing = place.crossing;
          player.zone = place.zone;
          this.say('sandbox', `${player.name} moved near ${place.name}`, home);
          return { ok: true };
        }
        case 'leave': {
          const found = rest[0] ? this.player(side, rest[0]) : null;
          if (!found) return fail('usage: leave <player>');
          const { player, side: home } = found;
          player.drop('left the sandbox');
          home.players.delete(player.name.toLowerCase());
          this.say('sandbox', `${player.name} left`, home);
          return { ok: true };
        }
        case 'status':
          side.fx.console('sonoran911 status');
          this.flush();
          return { ok: true };
        case 'sonoran911':
          side.fx.console(text);
          this.flush();
          return { ok: true };
        case 'cad': {
          const cad = this.localCad();
          if (cad.calls.length === 0) this.say('cad', 'no calls yet');
          for (const line of cadLines(cad)) this.say('cad', line);
          return { ok: true };
        }
        case 'requests':
          this.say('cad', this.requestsLine());
          return { ok: true };
        case 'outage': {
          const cad = this.localCad();
          if (rest[0] !== 'on' && rest[0] !== 'off') return fail('usage: outage on|off');
          cad.setOutage(rest[0] === 'on' ? { status: 503 } : null);
          this.say(
            'cad',
            rest[0] === 'on'
              ? 'outage: every request now gets 503'
              : 'outage over: the CAD answers again',
          );
          return { ok: true };
        }
        case 'attach':
        case 'close': {
          const cad = this.localCad();
          const callId = Number(rest[0]);
          if (!Number.isInteger(callId) || callId < 1)
            return fail(
              verb === 'close' ? 'usage: close <callId>' : 'usage: attach <callId> [unit]',
            );
          let unit: string | null = null;
          if (verb === 'close') {
            cad.closeCall(callId);
            this.say('cad', `a dispatcher closed call #${callId}`);
          } else {
            unit = rest.slice(1).join(' ') || `Unit ${this.nextUnit++}`;
            cad.attach(callId, unit);
            this.say('cad', `a dispatcher attached ${unit} to call #${callId}`);
          }
          // The CAD pushes to every server of the community.
          for (const s of this.sides) await this.passOn(s, callId, unit);
          for (const s of this.sides) await this.settle(s);
          return { ok: true };
        }
        case 'limit': {
          const cad = this.localCad();
          const n = Number(rest[0]);
          if (!Number.isInteger(n) || n < 1) return fail('usage: limit <n> (a whole number)');
          cad.spend(this.apiKey, n);
          this.say('cad', `another resource spent ${n} request(s) of the key's budget`);
          return { ok: true };
        }
        case 'redis': {
          const redis = this.redis;
          if (!redis)
            return fail(
              this.multi
                ? 'no Redis: redis-server is not installed (sudo apt install redis-server)'
                : 'no Redis with one server: npm start -- --servers 2',
            );
          if (rest[0] === 'kill') {
            if (!redis.running) return fail('Redis is not running (redis start)');
            await redis.kill();
            this.say('redis', 'killed (a crash): its data is lost; the servers keep their calls');
          } else if (rest[0] === 'start') {
            if (redis.running) return fail('Redis is already running');
            await redis.start();
            this.say('redis', `started again, empty, on ${redis.url}`);
          } else return fail('usage: redis kill|start');
          return { ok: true };
        }
        case 'restart':
          side.fx.restartResource(RESOURCE);
          await this.settle(side);
          this.say('sandbox', `${RESOURCE} restarted`, side);
          return { ok: true };
        case 'wait': {
          const seconds = Number(rest[0]);
          if (!Number.isFinite(seconds) || seconds < 0 || seconds > 600)
            return fail('usage: wait <seconds>');
          await sleep(seconds * 1000);
          return { ok: true };
        }
        case 'expect':
          return await this.expect(side, rest);
        default:
          return fail(`unknown command "${verb}" (try help)`);
      }
    } catch (err) {
      return fail((err as Error).message);
    } finally {
      this.flush();
    }
  }

  private async expect(side: Side, args: string[]): Promise<RunResult> {
    const [who, ...tail] = args;
    let seconds = 15;
    const last = tail.at(-1);
    if (tail.length > 1 && last !== undefined && /^\d+(\.\d+)?$/.test(last)) {
      seconds = Number(last);
      tail.pop();
    }
    if (!who || tail.length === 0)
      return { ok: false, error: 'usage: expect <player|cad|log|requests> <regex> [seconds]' };
    const pattern = new RegExp(tail.join(' '), 'i');
    const kind = who.toLowerCase();
    const lines = (): string[] => {
      if (kind === 'cad') return cadLines(this.localCad());
      if (kind === 'log') return serverLogs(side);
      if (kind === 'requests') return [this.requestsLine()];
      return this.player(side, who)?.player.chat.map((m) => m.text) ?? [];
    };
    const whose = kind === 'log' ? `${this.multi ? `${side.name}'s` : 'the'} console` : who;
    try {
      await side.fx.waitFor(() => lines().some((l) => pattern.test(l)), {
        what: `${whose} to see /${pattern.source}/`,
        timeoutMs: seconds * 1000,
      });
      return { ok: true };
    } catch {
      return {
        ok: false,
        error: `after ${seconds} s nothing that ${whose} saw matches /${pattern.source}/`,
      };
    }
  }

  /** The player's character logs in through the framework, with the job the flags give. */
  private async login(side: Side, player: Player, name: string, flags: Record<string, string>) {
    const fw = side.framework!;
    const lastName = LAST_NAMES[side.players.size % LAST_NAMES.length]!;
    const phone = flags.phone ?? `555-01${String(player.id).padStart(2, '0')}`;
    const job = flags.job
      ? { name: flags.job, type: flags.type, onDuty: flags.duty !== 'off' }
      : { name: 'unemployed', onDuty: false };
    await fw.login(side.fx, player, { firstName: name, lastName, phone, job });
    if (fw.name === 'esx') await npwd.setNumber(side.fx, player, phone);
    await this.settle(side);
    const duty = flags.job ? (flags.duty === 'off' ? ', off duty' : ', on duty') : '';
    this.say(
      'sandbox',
      `${name} ${lastName} (${phone}) logged in on ${fw.name} as ${job.name}${duty}`,
      side,
    );
  }

  /**
   * The CAD pushes the close or the attachment to sonorancad, which raises it as a local event
   * for the resources beside it. Its cache has the call as its Get Calls poll would have put it
   * there by now (the sandbox does not wait the poll's minute).
   */
  private async passOn(side: Side, callId: number, unit: string | null): Promise<void> {
    if (!side.sonorancad) {
      this.say('sandbox', 'sonorancad is not running: the resource does not hear of it', side);
      return;
    }
    if (!side.cachedCalls.has(callId)) {
      await SonorancadStandIn.knowCall(side.fx, callId);
      side.cachedCalls.add(callId);
    }
    const result =
      unit === null
        ? await SonorancadStandIn.closeCall(side.fx, callId)
        : await SonorancadStandIn.attachUnit(side.fx, callId, unit);
    this.say(
      'sonorancad',
      result.ok
        ? `pushed to sonorancad: ${unit === null ? 'call closed' : 'unit attached'} (#${callId})`
        : `sonorancad did not pass it on: ${result.reason ?? 'no reason given'}`,
      side,
    );
  }

  private localCad(): LocalCad {
    if (!this.cad) throw new Error('not available with a real CAD');
    return this.cad;
  }

  /** What the CAD counted for the key: answers by kind, 429s, the busiest window. */
  private requestsLine(): string {
    const cad = this.localCad();
    const mine = cad.requests.filter((r) => r.key === this.apiKey);
    const created = mine.filter((r) => r.callId !== undefined).length;
    const notes = mine.filter((r) => r.route === 'notes' && r.status < 300).length;
    const limited = mine.filter((r) => r.status === 429).length;
    const other = mine.length - created - notes - limited;
    const most = cad.maxInAnyWindow(this.apiKey);
    return `${mine.length} request(s) with the key: ${created} call(s) created, ${notes} note(s) added, ${limited} rate limited (429), ${other} other; at most ${most} call request(s) in any ${CAD_LIMIT.windowMs / 1000} s (limit ${CAD_LIMIT.requests}, requests spent by others included)`;
  }

  /** A server by number (2) or name (s2). */
  private side(which: string): Side | undefined {
    const n = Number(which);
    if (Number.isInteger(n) && n >= 1) return this.sides[n - 1];
    return this.sides.find((s) => s.name === which.toLowerCase());
  }

  private noServer(which: string): string {
    return this.multi
      ? `no server "${which}": ${this.sides.map((s, i) => `${i + 1} (${s.name})`).join(', ')}`
      : `no server "${which}": there is one (npm start -- --servers 2 runs two)`;
  }

  /** A player by name or id on `side`, else by name on the only other server that has them. */
  private player(side: Side, who: string): { player: Player; side: Side } | null {
    const byName = side.players.get(who.toLowerCase());
    if (byName) return { player: byName, side };
    const id = Number(who);
    const byId = [...side.players.values()].find((p) => p.id === id);
    if (byId) return { player: byId, side };
    for (const other of this.sides) {
      const player = other.players.get(who.toLowerCase());
      if (player) return { player, side: other };
    }
    return null;
  }

  /** Lets net events and immediate work run so output lands in order. */
  private async settle(side: Side): Promise<void> {
    await side.fx.settle();
    await sleep(20);
    await side.fx.settle();
  }

  /** A line's tag: with several servers, the server's own lines start with its name. */
  private tag(text: string, side?: Side): string {
    if (!this.multi) return text.padEnd(12);
    return (side ? `${side.name} ${text}` : text).padEnd(16);
  }

  private say(tag: string, text: string, side?: Side): void {
    const colors: Record<string, string> = {
      sandbox: '35',
      cad: '32',
      redis: '31',
      sonorancad: '34',
      help: '0',
      places: '0',
    };
    this.options.out(`${this.paint(colors[tag] ?? '0', this.tag(tag, side))}│ ${text}`);
  }

  /** Prints what happened since the last call: resource logs, CAD requests, chat lines. */
  flush(): void {
    for (const side of this.sides) {
      const logs = side.fx.logs;
      for (; side.printedLogs < logs.length; side.printedLogs++) {
        const entry = logs[side.printedLogs]!;
        if (entry.side !== 'server' || entry.resource === 'fxserver') continue;
        const tone = entry.level === 'error' ? '31' : entry.level === 'warn' ? '33' : '2';
        this.options.out(
          `${this.paint('2', this.tag('server', side))}│ ${this.paint(tone, entry.text)}`,
        );
      }
    }
    const requests = this.cad?.requests ?? [];
    while (this.printedRequests < requests.length) {
      const r = requests[this.printedRequests]!;
      if (r.status === 0 && r.outcome === 'answered') break;
      this.printedRequests++;
      this.say('cad', describeRequest(r, this.paint));
    }
    for (const side of this.sides) {
      for (const player of side.players.values()) {
        const who = this.tag(`${player.name} (${player.id})`, side);
        const from = side.printedChat.get(player.id) ?? 0;
        for (const line of player.chat.slice(from)) {
          this.options.out(
            `${this.paint('36', who)}│ ${line.author ? `${line.author}: ` : ''}${line.text}`,
          );
        }
        side.printedChat.set(player.id, player.chat.length);
        // Blips a responder's map gained or lost since the last flush.
        const before = side.printedBlips.get(player.id) ?? new Set<number>();
        const now = new Set<number>();
        for (const blip of player.blips) {
          now.add(blip.handle);
          if (!before.has(blip.handle))
            this.options.out(
              `${this.paint('36', who)}│ ${this.paint('33', `map: blip "${blip.name}" at ${blip.x}, ${blip.y}`)}`,
            );
        }
        for (const handle of before)
          if (!now.has(handle))
            this.options.out(
              `${this.paint('36', who)}│ ${this.paint('2', 'map: a call blip expired')}`,
            );
        side.printedBlips.set(player.id, now);
      }
    }
  }
}

/** What the resource (and the resources beside it) printed on a server's console. */
function serverLogs(side: Side): string[] {
  return side.fx.logs
    .filter((e) => e.side === 'server' && e.resource !== 'fxserver')
    .map((e) => e.text);
}

const LAST_NAMES = ['Carter', 'Nguyen', 'Silva', 'Okafor', 'Berg', 'Moreau'];

/** `--key value` pairs out of a command's words; the rest stay in order. */
function parseFlags(words: string[]): { words: string[]; values: Record<string, string> } | string {
  const out: string[] = [];
  const values: Record<string, string> = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (!word.startsWith('--')) {
      out.push(word);
      continue;
    }
    const key = word.slice(2);
    const value = words[i + 1];
    if (!['job', 'type', 'duty', 'phone'].includes(key)) return `unknown option ${word}`;
    if (value === undefined || value.startsWith('--')) return `${word} needs a value`;
    if (key === 'duty' && value !== 'on' && value !== 'off') return '--duty takes on or off';
    values[key] = value;
    i++;
  }
  return { words: out, values };
}

/**
 * Points the resource's config at the sandbox CAD, unless it is not JSON at all. With several
 * servers, `sharedName` sets sharedBudget: this server's name (the Redis URL comes from the
 * convar sonoran911_redisUrl), or null when there is no Redis to share the budget through.
 */
function pointAt(configText: string | null, baseUrl: string, sharedName?: string | null): string {
  if (configText === null && sharedName === undefined) return JSON.stringify({ api: { baseUrl } });
  try {
    const config = JSON.parse(configText ?? '{}') as Record<string, unknown>;
    if (typeof config !== 'object' || config === null || Array.isArray(config))
      return configText ?? '{}';
    const api =
      typeof config.api === 'object' && config.api !== null
        ? (config.api as Record<string, unknown>)
        : {};
    // A key in the file would lose to the sandbox convar anyway; drop it so it is not printed around.
    const { apiKey: _dropped, ...rest } = api;
    config.api = { ...rest, baseUrl };
    if (sharedName !== undefined) {
      const own =
        typeof config.sharedBudget === 'object' && config.sharedBudget !== null
          ? (config.sharedBudget as Record<string, unknown>)
          : {};
      // The convar names the sandbox's Redis; a URL in the file would only be printed around.
      const { redisUrl: _url, ...kept } = own;
      config.sharedBudget = sharedName === null ? null : { ...kept, name: sharedName };
    }
    return JSON.stringify(config, null, 2);
  } catch {
    // Broken JSON goes in as it is: the resource's own error report is what the user wants to see.
    return configText ?? '{}';
  }
}

/** The CAD's calls, each followed by the notes it came with and those added to it. */
function cadLines(cad: LocalCad): string[] {
  return cad.calls.flatMap((c) => [
    describeCall(c.callId, c.body as unknown as Record<string, unknown>),
    ...(c.body.notes as { label?: unknown; content?: unknown }[]).map(
      (n) => `  note with #${c.callId}: ${String(n.label ?? '')}: ${String(n.content ?? '')}`,
    ),
    ...cad.notes
      .filter((n) => n.callId === c.callId)
      .map((n) => `  note on #${n.callId}: ${(n.body as { note?: string }).note ?? ''}`),
  ]);
}

function describeCall(callId: number, body: Record<string, unknown>): string {
  const meta = (body.metaData ?? {}) as Record<string, string>;
  const targets = [
    ...((body.communityUserIds as string[]) ?? []),
    ...((body.accounts as string[]) ?? []),
  ];
  return (
    `#${callId} "${body.title}" code ${body.code} priority ${body.priority} at ${body.address} / ${body.block}` +
    ` postal ${body.postal || '-'} (x ${meta.x ?? '?'}, y ${meta.y ?? '?'}) caller ${meta.callerName ?? '-'}` +
    ` targets [${targets.join(', ')}]: ${body.description || '(no description)'}`
  );
}

function describeRequest(r: CadRequest, paint: (code: string, text: string) => string): string {
  if (r.outcome !== 'answered') {
    return paint(
      '31',
      `← request ${r.outcome === 'reset' ? 'dropped (connection reset)' : 'left hanging'}`,
    );
  }
  const tone = r.status < 300 ? '32' : r.status === 429 ? '33' : '31';
  const what =
    r.route === 'notes' && r.status < 300
      ? 'note added'
      : r.callId !== undefined
        ? `created #${r.callId}`
        : r.status === 429
          ? 'rate limited'
          : r.injected
            ? 'injected failure'
            : 'refused';
  const title = (r.body as { title?: string } | undefined)?.title;
  return paint(tone, `← POST ${r.path} ${r.status} ${what}${title ? ` "${title}"` : ''}`);
}

function coords(words: string[]): number[] | null {
  if (words.length !== 3) return null;
  const nums = words.map(Number);
  return nums.every(Number.isFinite) ? nums : null;
}

/** A stable fake license per name, so a player keeps their cooldowns across joins. */
function hex(name: string): string {
  let h = 2166136261;
  for (const c of name.toLowerCase()) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return (h >>> 0).toString(16).padStart(8, '0').repeat(5);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
