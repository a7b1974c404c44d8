/**
 * One sandbox: the built resource in the FXServer emulator, a nearest-postal resource with
 * demo data, and a local CAD stand-in (or a real CAD). `run(line)` executes one sandbox
 * command; what players read, what the CAD receives and what the resource prints are
 * written out as they happen.
 */
import { randomUUID } from 'node:crypto';
import { type CadRequest, type LocalCad, startLocalCad } from './cad';
import { FxServer, type Player } from './emulator';
import { FRAMEWORK_STAND_INS } from './frameworks';
import { npwd } from './frameworks/phones';
import type { FrameworkStandIn } from './frameworks/types';
import { DEMO_POSTALS, nearestPlace, PLACES } from './places';
import { SonorancadStandIn } from './sonorancad';

export const RESOURCE = 'sonoran-911';

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
  'outage on|off             the CAD answers 503 to everything, or recovers',
  'attach <callId> [unit]    a dispatcher attaches a unit to the call (sonorancad passes it on)',
  'close <callId>            a dispatcher closes the call (sonorancad passes it on)',
  "limit <n>                 another resource spends n requests of the key's budget now",
  'restart                   stop and start the resource over the same KVP',
  'wait <seconds>            let time pass',
  'expect <player|cad> <regex> [seconds]   wait until a chat line (or a CAD call) matches',
  'places                    named places for join and move',
  'help, quit',
];

export class Session {
  readonly fx: FxServer;
  private cad: LocalCad | null = null;
  private readonly players = new Map<string, Player>();
  private printedLogs = 0;
  private printedRequests = 0;
  private readonly printedChat = new Map<number, number>();
  private pump: ReturnType<typeof setInterval> | null = null;
  private framework: FrameworkStandIn | null = null;
  /** The sonorancad stand-in runs: closes and attachments reach the resource through it. */
  private sonorancad = false;
  /** Calls in sonorancad's cache (put there once, as its poll would). */
  private readonly cachedCalls = new Set<number>();
  /** Units attached with no name given: "Unit 1", "Unit 2", ... */
  private nextUnit = 1;
  /** The blips each player had at the last flush, to print what appeared and went. */
  private readonly printedBlips = new Map<number, Set<number>>();
  private readonly paint: (code: string, text: string) => string;

  private constructor(
    private readonly options: SessionOptions,
    private readonly apiKey: string,
  ) {
    this.paint = (code, text) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
    this.fx = new FxServer({ convars: { sonoran911_apiKey: apiKey } });
  }

  static async start(options: SessionOptions): Promise<Session> {
    const apiKey = options.realCad?.apiKey ?? `sandbox-${randomUUID()}`;
    const session = new Session(options, apiKey);
    let baseUrl = options.realCad?.url;
    if (!baseUrl) {
      session.cad = await startLocalCad({ keys: { [apiKey]: { serverIds: [1] } } });
      baseUrl = session.cad.url;
    }
    session.fx.startResource('nearest-postal', {
      files: { 'postals.json': JSON.stringify(DEMO_POSTALS) },
      metadata: { postal_file: ['postals.json'] },
    });
    // Before ours, as server.cfg lists it on a server that runs Sonoran's resource.
    if (options.sonorancad !== false) {
      await SonorancadStandIn.start(session.fx);
      session.sonorancad = true;
    }
    session.fx.startResource(RESOURCE, {
      server: options.serverJs,
      client: options.clientJs,
      files: { ...options.files, 'config.json': pointAt(options.configText, baseUrl) },
    });
    session.say(
      'sandbox',
      `CAD: ${options.realCad ? `${baseUrl} (real, key from SONORAN911_API_KEY)` : `${baseUrl} (local stand-in, 20 requests per 60 s)`}`,
    );
    session.flush();
    // Output from timers and HTTP answers appears while the prompt waits.
    session.pump = setInterval(() => session.flush(), 50);
    return session;
  }

  async close(): Promise<void> {
    if (this.pump) clearInterval(this.pump);
    this.flush();
    this.fx.shutdown();
    await this.cad?.close();
  }

  /** Script errors the resource raised (a healthy run has none). */
  errors(): string[] {
    return this.fx.errors.map((e) => `${e.resource} ${e.where}: ${e.message}`);
  }

  async run(line: string): Promise<RunResult> {
    const words = line.trim().split(/\s+/);
    const [verb = '', ...rest] = words;
    const fail = (error: string): RunResult => ({ ok: false, error });
    try {
      switch (verb.toLowerCase()) {
        case '':
          return { ok: true };
        case 'help':
          for (const h of HELP) this.say('help', h);
          return { ok: true };
        case 'places':
          for (const p of PLACES)
            this.say('places', `${p.name}: ${p.x} ${p.y} ${p.z} (${p.street}, ${p.zone.label})`);
          return { ok: true };
        case 'framework': {
          const name = rest[0] as FrameworkStandIn['name'] | undefined;
          const standIn = name ? FRAMEWORK_STAND_INS[name] : undefined;
          if (!standIn) return fail('usage: framework qbx|qb|esx|ox|nd');
          if (this.framework) return fail(`${this.framework.name} is already running`);
          if (this.players.size > 0) return fail('start the framework before anyone joins');
          await standIn.start(this.fx);
          // ESX keeps no phone number: the phone resource does.
          if (standIn.name === 'esx') await npwd.start(this.fx);
          this.framework = standIn;
          await this.settle();
          this.say(
            'sandbox',
            `framework ${standIn.name} started (${standIn.resources.join(', ')})`,
          );
          return { ok: true };
        }
        case 'down':
        case 'cuff':
        case 'duty': {
          const [who, state] = rest;
          const player = who ? this.player(who) : null;
          const fw = this.framework;
          if (!player)
            return fail(`usage: ${verb} <player> ${verb === 'duty' ? 'on|off' : '[off]'}`);
          if (!fw) return fail('no framework: start one first (framework qbx)');
          const on = state !== 'off';
          if (verb === 'down') await fw.setDead(this.fx, player, on);
          else if (verb === 'cuff') await fw.setCuffed(this.fx, player, on);
          else await fw.setDuty(this.fx, player, on);
          await this.settle();
          const [yes, no] =
            verb === 'down'
              ? ['down', 'up again']
              : verb === 'cuff'
                ? ['handcuffed', 'freed']
                : ['on duty', 'off duty'];
          this.say('sandbox', `${player.name} is ${on ? yes : no}`);
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
          if (this.players.has(name.toLowerCase())) return fail(`${name} is already here`);
          const at = xyz.length > 0 ? coords(xyz) : [PLACES[0]!.x, PLACES[0]!.y, PLACES[0]!.z];
          if (!at) return fail('usage: join <name> [x y z] (three numbers)');
          const place = nearestPlace(at[0]!, at[1]!);
          const player = this.fx.addPlayer({
            name,
            identifiers: [`license:${hex(name)}`, `discord:${100000 + this.players.size}`],
            position: [at[0]!, at[1]!, at[2]!],
            heading: 90,
            street: place.street,
            crossing: place.crossing,
            zone: place.zone,
          });
          this.players.set(name.toLowerCase(), player);
          this.printedChat.set(player.id, 0);
          await this.settle();
          this.say(
            'sandbox',
            `${name} joined as player ${player.id} near ${place.name} (${place.street}, ${place.zone.label})`,
          );
          if (this.framework) await this.login(player, name, flags.values);
          else if (Object.keys(flags.values).length > 0)
            this.say('sandbox', 'no framework: --job, --duty and --phone need one (framework qbx)');
          return { ok: true };
        }
        case 'as': {
          const [who, ...typed] = rest;
          const player = who ? this.player(who) : null;
          if (!player) return fail(`no player "${who ?? ''}" (join one first)`);
          const text = typed.join(' ');
          if (!text.startsWith('/')) return fail('usage: as <player> /911 <text>');
          await this.fx
            .waitFor(() => player.hasClientCommand(text.slice(1).split(' ')[0] ?? ''), {
              what: `the command ${text.split(' ')[0]} on ${player.name}'s client`,
              timeoutMs: 2_000,
            })
            .catch(() => undefined);
          player.type(text);
          await this.settle();
          return { ok: true };
        }
        case 'move': {
          const [who, ...xyz] = rest;
          const player = who ? this.player(who) : null;
          const at = coords(xyz);
          if (!player || !at) return fail('usage: move <player> x y z');
          const place = nearestPlace(at[0]!, at[1]!);
          player.move(at[0]!, at[1]!, at[2]!);
          player.street = place.street;
          player.crossing = place.crossing;
          player.zone = place.zone;
          this.say('sandbox', `${player.name} moved near ${place.name}`);
          return { ok: true };
        }
        case 'leave': {
          const player = rest[0] ? this.player(rest[0]) : null;
          if (!player) return fail('usage: leave <player>');
          player.drop('left the sandbox');
          this.players.delete(player.name.toLowerCase());
          this.say('sandbox', `${player.name} left`);
          return { ok: true };
        }
        case 'status':
          this.fx.console('sonoran911 status');
          this.flush();
          return { ok: true };
        case 'sonoran911':
          this.fx.console(line.trim());
          this.flush();
          return { ok: true };
        case 'cad': {
          const cad = this.localCad();
          if (cad.calls.length === 0) this.say('cad', 'no calls yet');
          for (const line of cadLines(cad)) this.say('cad', line);
          return { ok: true };
        }
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
          await this.passOn(callId, unit);
          await this.settle();
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
        case 'restart':
          this.fx.restartResource(RESOURCE);
          await this.settle();
          this.say('sandbox', `${RESOURCE} restarted`);
          return { ok: true };
        case 'wait': {
          const seconds = Number(rest[0]);
          if (!Number.isFinite(seconds) || seconds < 0 || seconds > 600)
            return fail('usage: wait <seconds>');
          await sleep(seconds * 1000);
          return { ok: true };
        }
        case 'expect':
          return await this.expect(rest);
        default:
          return fail(`unknown command "${verb}" (try help)`);
      }
    } catch (err) {
      return fail((err as Error).message);
    } finally {
      this.flush();
    }
  }

  private async expect(args: string[]): Promise<RunResult> {
    const [who, ...tail] = args;
    let seconds = 15;
    const last = tail.at(-1);
    if (tail.length > 1 && last !== undefined && /^\d+(\.\d+)?$/.test(last)) {
      seconds = Number(last);
      tail.pop();
    }
    if (!who || tail.length === 0)
      return { ok: false, error: 'usage: expect <player|cad> <regex> [seconds]' };
    const pattern = new RegExp(tail.join(' '), 'i');
    const lines = (): string[] => {
      if (who.toLowerCase() === 'cad') {
        return cadLines(this.localCad());
      }
      return this.player(who)?.chat.map((m) => m.text) ?? [];
    };
    try {
      await this.fx.waitFor(() => lines().some((l) => pattern.test(l)), {
        what: `${who} to see /${pattern.source}/`,
        timeoutMs: seconds * 1000,
      });
      return { ok: true };
    } catch {
      return {
        ok: false,
        error: `after ${seconds} s nothing that ${who} saw matches /${pattern.source}/`,
      };
    }
  }

  /** The player's character logs in through the framework, with the job the flags give. */
  private async login(player: Player, name: string, flags: Record<string, string>) {
    const fw = this.framework!;
    const lastName = LAST_NAMES[this.players.size % LAST_NAMES.length]!;
    const phone = flags.phone ?? `555-01${String(player.id).padStart(2, '0')}`;
    const job = flags.job
      ? { name: flags.job, type: flags.type, onDuty: flags.duty !== 'off' }
      : { name: 'unemployed', onDuty: false };
    await fw.login(this.fx, player, { firstName: name, lastName, phone, job });
    if (fw.name === 'esx') await npwd.setNumber(this.fx, player, phone);
    await this.settle();
    const duty = flags.job ? (flags.duty === 'off' ? ', off duty' : ', on duty') : '';
    this.say(
      'sandbox',
      `${name} ${lastName} (${phone}) logged in on ${fw.name} as ${job.name}${duty}`,
    );
  }

  /**
   * The CAD pushes the close or the attachment to sonorancad, which raises it as a local event
   * for the resources beside it. Its cache has the call as its Get Calls poll would have put it
   * there by now (the sandbox does not wait the poll's minute).
   */
  private async passOn(callId: number, unit: string | null): Promise<void> {
    if (!this.sonorancad) {
      this.say('sandbox', 'sonorancad is not running: the resource does not hear of it');
      return;
    }
    if (!this.cachedCalls.has(callId)) {
      await SonorancadStandIn.knowCall(this.fx, callId);
      this.cachedCalls.add(callId);
    }
    const result =
      unit === null
        ? await SonorancadStandIn.closeCall(this.fx, callId)
        : await SonorancadStandIn.attachUnit(this.fx, callId, unit);
    this.say(
      'sonorancad',
      result.ok
        ? `pushed to sonorancad: ${unit === null ? 'call closed' : 'unit attached'} (#${callId})`
        : `sonorancad did not pass it on: ${result.reason ?? 'no reason given'}`,
    );
  }

  private localCad(): LocalCad {
    if (!this.cad) throw new Error('not available with a real CAD');
    return this.cad;
  }

  private player(who: string): Player | null {
    const byName = this.players.get(who.toLowerCase());
    if (byName) return byName;
    const id = Number(who);
    return [...this.players.values()].find((p) => p.id === id) ?? null;
  }

  /** Lets net events and immediate work run so output lands in order. */
  private async settle(): Promise<void> {
    await this.fx.settle();
    await sleep(20);
    await this.fx.settle();
  }

  private say(tag: string, text: string): void {
    const colors: Record<string, string> = {
      sandbox: '35',
      cad: '32',
      sonorancad: '34',
      help: '0',
      places: '0',
    };
    this.options.out(`${this.paint(colors[tag] ?? '0', tag.padEnd(12))}│ ${text}`);
  }

  /** Prints what happened since the last call: resource logs, CAD requests, chat lines. */
  flush(): void {
    const logs = this.fx.logs;
    for (; this.printedLogs < logs.length; this.printedLogs++) {
      const entry = logs[this.printedLogs]!;
      if (entry.side !== 'server' || entry.resource === 'fxserver') continue;
      const tone = entry.level === 'error' ? '31' : entry.level === 'warn' ? '33' : '2';
      this.options.out(`${this.paint('2', 'server'.padEnd(12))}│ ${this.paint(tone, entry.text)}`);
    }
    const requests = this.cad?.requests ?? [];
    while (this.printedRequests < requests.length) {
      const r = requests[this.printedRequests]!;
      if (r.status === 0 && r.outcome === 'answered') break;
      this.printedRequests++;
      this.say('cad', describeRequest(r, this.paint));
    }
    for (const player of this.players.values()) {
      const from = this.printedChat.get(player.id) ?? 0;
      for (const line of player.chat.slice(from)) {
        const who = `${player.name} (${player.id})`.padEnd(12);
        this.options.out(
          `${this.paint('36', who)}│ ${line.author ? `${line.author}: ` : ''}${line.text}`,
        );
      }
      this.printedChat.set(player.id, player.chat.length);
      // Blips a responder's map gained or lost since the last flush.
      const before = this.printedBlips.get(player.id) ?? new Set<number>();
      const now = new Set<number>();
      for (const blip of player.blips) {
        now.add(blip.handle);
        if (!before.has(blip.handle))
          this.options.out(
            `${this.paint('36', `${player.name} (${player.id})`.padEnd(12))}│ ${this.paint('33', `map: blip "${blip.name}" at ${blip.x}, ${blip.y}`)}`,
          );
      }
      for (const handle of before)
        if (!now.has(handle))
          this.options.out(
            `${this.paint('36', `${player.name} (${player.id})`.padEnd(12))}│ ${this.paint('2', 'map: a call blip expired')}`,
          );
      this.printedBlips.set(player.id, now);
    }
  }
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

/** Points the resource's config at the sandbox CAD, unless it is not JSON at all. */
function pointAt(configText: string | null, baseUrl: string): string {
  if (configText === null) return JSON.stringify({ api: { baseUrl } });
  try {
    const config = JSON.parse(configText) as Record<string, unknown>;
    if (typeof config !== 'object' || config === null || Array.isArray(config)) return configText;
    const api =
      typeof config.api === 'object' && config.api !== null
        ? (config.api as Record<string, unknown>)
        : {};
    // A key in the file would lose to the sandbox convar anyway; drop it so it is not printed around.
    const { apiKey: _dropped, ...rest } = api;
    config.api = { ...rest, baseUrl };
    return JSON.stringify(config, null, 2);
  } catch {
    // Broken JSON goes in as it is: the resource's own error report is what the user wants to see.
    return configText;
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
