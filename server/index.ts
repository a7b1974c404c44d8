/**
 * Server entry point: the only file with effects at load. It reads the configuration,
 * wires the parts together, takes back the calls a previous run left, and binds events and
 * the operator command; every part lives in its own module.
 */
import { randomUUID } from 'node:crypto';
import type { LocationFormats } from '../shared/call/build';
import { loadConfig } from '../shared/config/load';
import { defaultMessages, type MessageKey, type Messages } from '../shared/config/locale';
import { configSchema, OPERATOR_COMMAND } from '../shared/config/schema';
import { steadyClock } from '../shared/delivery/clock';
import { Cooldowns } from '../shared/guards/cooldown';
import { Incidents } from '../shared/merge/incidents';
import { type CommandsPayload, Events } from '../shared/protocol';
import { setUpSharedBudget } from './budget/setup';
import { createConflictWatch } from './conflicts';
import { runConsole } from './console';
import { createDispatch } from './dispatch';
import { createExports } from './doors/exports';
import { createNetDoors } from './doors/net';
import { createCharacters } from './framework/characters';
import { CORE_RESOURCE } from './framework/detect';
import {
  ADAPTERS,
  describeSurroundings,
  nativeFrameworkHost,
  type Surroundings,
  surroundings,
} from './framework/index';
import { INVENTORIES } from './framework/inventories';
import { PHONES } from './framework/phones';
import { createIntake } from './intake';
import { createInvoker } from './invoker';
import { resourceKvp } from './kvp';
import { createLine } from './line';
import { createLocator, LOCATE_TIMEOUT_MS } from './locate';
import { createLogger, Secrets } from './log';
import { createNotes } from './notes';
import { createNotifier } from './notify';
import { createPostals } from './postals';
import { createPushEvents } from './pushevents';
import { createResponders } from './responders';
import { createStaffAlerts, fetchPost, type StaffEvent, staffWebhookUrl } from './staff';
import { createNoteTransport, createTransport } from './transport';
import { nativeWorld } from './world-native';

function main(): void {
  const world = nativeWorld;
  const resource = world.resourceName();
  const secrets = new Secrets();
  const log = createLogger(resource, secrets);
  // Wall-clock milliseconds (send times and pauses are persisted across restarts) that move
  // only as the monotonic clock does: a system clock set back or forward changes nothing here.
  const now = steadyClock(Date.now, () => performance.now());

  const loaded = loadConfig({
    fileText: world.loadFile(resource, 'config.json'),
    convar: world.convar,
  });
  for (const warning of loaded.warnings) log.warn(warning);
  if (!loaded.ok) {
    for (const error of loaded.errors) log.error(error);
    log.error(
      'config.json has problems (above): every call is refused until they are fixed and the resource restarts',
    );
  }
  // With a broken file the defaults run with sending refused, so players who type /911
  // hear "unavailable" instead of meeting an unknown command.
  const config = loaded.ok ? loaded.config : configSchema.parse({});
  const line = createLine({ loaded, config, convar: world.convar, secrets, log });

  const messages: Messages = { ...defaultMessages, ...definedOnly(config.messages) };
  const { commands } = config;
  const notifier = createNotifier(
    messages,
    (player, message) => emitNet('chat:addMessage', player, message),
    (text) => secrets.redact(text),
  );

  const timers = {
    set: (fn: () => void, ms: number) => setTimeout(fn, ms),
    clear: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };

  // Staff hear of what needs a person (a refused key, an outage, a dead letter, a filling
  // queue) through a webhook; the URL is a secret from the moment it is read.
  const webhook = staffWebhookUrl(world.convar('sonoran911_webhook'), config.staffWebhook);
  if (webhook.url) secrets.set('staffWebhook', webhook.url);
  if (webhook.warning) log.warn(webhook.warning);
  const alerts = createStaffAlerts({ url: webhook.url, post: fetchPost, now, timers, log });
  // The last guard before a message leaves the server, as for chat lines.
  const staff = {
    raise: (kind: StaffEvent, text: string) => alerts.raise(kind, secrets.redact(text)),
    stop: () => alerts.stop(),
  };

  // The framework, phone and inventory beside us: chosen now, chosen again when one of them
  // starts or stops (server.cfg may start them after this resource).
  const host = nativeFrameworkHost;
  let around: Surroundings = surroundings(host, config);
  const players = () => getPlayers().map(Number);
  const characters = createCharacters({
    host,
    ...around,
    players,
    aceAllowed: world.aceAllowed,
    defer: (fn) => setImmediate(fn),
    now,
    log,
  });
  const responders = createResponders({
    characters,
    messages,
    chat: (player, message) =>
      emitNet('chat:addMessage', player, {
        ...message,
        args: message.args.map((a) => secrets.redact(a)),
      }),
    blip: (player, payload) => emitNet(Events.alert, player, payload),
  });
  /** One lane's scheduler settings: each CAD endpoint has its own budget, the rest is shared. */
  const lane = (requests: number) => ({
    requests,
    windowMs: config.rateLimit.windowSeconds * 1000,
    marginMs: config.rateLimit.marginMs,
    ...config.retry,
    maxQueue: config.queue.maxLength,
    agingMs: config.queue.agingSeconds * 1000,
    maxRequestMs: config.api.timeoutMs,
  });
  // Several servers on one key share its budget through Redis (sharedBudget); each lane
  // below asks it for every request. null: this server owns the key's budget alone.
  const shared = setUpSharedBudget({
    config,
    convar: world.convar,
    secret: (...values) => secrets.set('redisUrl', ...values),
    apiKey: line.apiKey(),
    store: resourceKvp,
    now,
    timers,
    log,
  });
  const gateFor = (name: string, l: ReturnType<typeof lane>) =>
    shared
      ? {
          gate: shared.budget.lane({
            name,
            requests: l.requests,
            windowMs: l.windowMs,
            marginMs: l.marginMs,
            maxRequestMs: l.maxRequestMs,
          }),
        }
      : {};
  const callsLane = lane(config.rateLimit.requests);
  // Add Call Note allows its requests per minute, whatever the calls endpoint's window.
  const notesLane = { ...lane(config.rateLimit.noteRequests), windowMs: 60_000 };
  const transportOptions = {
    ...config.api,
    apiKey: line.apiKey,
    serverId: line.serverId,
    redact: (text: string) => secrets.redact(text),
    notice: (message: string) => log.warn(message),
  };
  // Recent calls and whose reports are in them (see shared/merge/incidents.ts): reports join
  // them when merging is on, and their callers hear when units respond either way.
  const merge = config.merge ?? { radiusMeters: 100, windowMinutes: 5, sameCommand: true };
  const incidents = new Incidents({
    radiusMeters: merge.radiusMeters,
    windowMs: merge.windowMinutes * 60_000,
    sameCommand: merge.sameCommand,
  });
  /** Tells every player of an incident one line (units responding, the number of a fold). */
  const tellIncident = (
    players: number[],
    key: MessageKey,
    values: Record<string, string | number>,
  ) => {
    for (const player of players)
      if (world.playerExists(player)) notifier.tell(player, key, values, 'ok');
  };
  const dispatch = createDispatch(
    {
      send: createTransport(transportOptions),
      store: resourceKvp,
      ...gateFor('calls', callsLane),
      world,
      log,
      notifier,
      emitLocal: (event, ...args) => emit(event, ...args),
      now,
      timers,
      random: Math.random,
      watch: {
        created: (id, callId) => {
          // The incident first: later reports must find the call created, whatever fails after.
          const incident = incidents.created(id, callId);
          // Notes held for the number go now (or, without one, as calls of their own).
          for (const held of incident?.held.splice(0) ?? []) notes.release(held, callId);
          // Reports folded in while it waited: their callers hear the number too.
          if (incident && callId !== null) tellIncident(incident.waiting, 'merged', { callId });
          responders.created(id, callId, world.playerExists);
        },
        ended: (id) => {
          responders.forget(id);
          const incident = incidents.get(id);
          incidents.ended(id);
          // Notes held for this call's number will get none: they go as calls of their own,
          // whose number their reporters will hear instead.
          const rerouted = new Set<number>();
          for (const held of incident?.held.splice(0) ?? []) {
            for (const player of notes.scheduler.peek(held)?.players ?? []) rerouted.add(player);
            notes.release(held, null);
          }
          // Reports folded into the call share its fate (refused, or dropped by an operator).
          if (incident)
            tellIncident(
              incident.waiting.filter((p) => !rerouted.has(p)),
              'rejected',
              { reason: 'the call your report joined was not accepted' },
            );
        },
        deadLetter: (id, source, detail) =>
          staff.raise(
            'deadLetter',
            `Call ${id.slice(0, 8)} (${source}) was refused by the CAD and kept as a dead letter: ${detail}`,
          ),
        keyRefused: (detail) =>
          staff.raise(
            'keyRefused',
            `The CAD refused the API key (${detail}). Every call stays queued until it is fixed and "sonoran911 retry all" runs.`,
          ),
        outage: (started, reason) =>
          staff.raise(
            started ? 'outageStarted' : 'outageEnded',
            started
              ? `The CAD cannot be reached (${reason}); calls are kept and sent when it answers.`
              : 'The CAD answers again; waiting calls are being sent.',
          ),
        queueHalf: (length, max) =>
          staff.raise(
            'queueHalf',
            `${length} of at most ${max} calls are waiting: the queue is past half.`,
          ),
      },
    },
    callsLane,
  );
  const { scheduler } = dispatch;
  const notes = createNotes(
    {
      send: createNoteTransport(transportOptions),
      store: resourceKvp,
      ...gateFor('notes', notesLane),
      log,
      now,
      wallNow: () => Date.now(),
      timers,
      random: Math.random,
      fallback(job) {
        // The call is gone: the reports go out as a call of their own, so nothing is lost.
        const { incident, ...meta } = job.meta;
        const old = incidents.get(incident);
        incidents.ended(incident);
        const id = randomUUID();
        let queued: ReturnType<typeof dispatch.enqueue>;
        try {
          queued = dispatch.enqueue(id, job.call.fallback, meta, 0);
        } catch (err) {
          log.error(
            `the report of note ${job.id} could not be queued as a call: ${(err as Error).message}; the note is kept as a dead letter`,
          );
          return false;
        }
        if (!queued.ok) {
          log.error(
            `the report of note ${job.id} could not be queued as a call (the queue is full); the note is kept as a dead letter (sonoran911 status)`,
          );
          return false;
        }
        // The new call is the incident now: later reports join it, and everyone whose report
        // is in it hears its number (the note's first reporter as its caller) and of units.
        const next = incidents.opened({
          requestId: id,
          kind: old?.kind ?? meta.source,
          key: old?.key ?? null,
          at: old?.at ?? null,
          caller: meta.playerKey,
          player: meta.player,
          now: now(),
        });
        for (const player of job.call.players)
          if (player !== meta.player) incidents.joined(next, null, player, true);
        return true;
      },
    },
    notesLane,
  );
  shared?.budget.start();
  line.open(
    commands.map((c) => c.name),
    () => {
      dispatch.restore();
      // A note held for a call still waiting after the restart joins that call's notes.
      notes.restore((job) => {
        const call = scheduler.peek(job.meta.incident);
        if (!call) return false;
        const folded = {
          time: new Date(Date.now()).toISOString(),
          label: job.meta.callerName,
          type: 'text',
          content: job.call.note,
        };
        return scheduler.update(job.meta.incident, { ...call, notes: [...call.notes, folded] });
      });
    },
    [describeSurroundings(around), shared?.describe].filter(Boolean).join('; '),
  );

  const formats: LocationFormats = {
    ...config.location,
    unknownLocation: messages.unknownLocation,
    nearPostal: messages.nearPostal,
  };
  const postals = createPostals(world, config.postals, log, now);
  const locator = createLocator({
    ask: (player, nonce) => emitNet(Events.locate, player, { nonce }),
    timers,
    newNonce: randomUUID,
    timeoutMs: LOCATE_TIMEOUT_MS,
  });
  const intake = createIntake({
    world,
    config,
    messages,
    formats,
    down: line.down,
    dispatch,
    locator,
    postals,
    notifier,
    cooldowns: new Cooldowns(),
    characters,
    incidents,
    notes,
    followUps: new Cooldowns(),
    responders,
    log,
    now,
    newId: randomUUID,
  });
  const net = createNetDoors({ world, commands, intake, locator, notifier, now });
  const api = createExports({
    world,
    config,
    commands,
    intake,
    dispatch,
    notes,
    droppedPayloads: net.dropped,
    ...(shared ? { shared: () => shared.budget.status() } : {}),
    log,
    now,
  });
  // GetInvokingResource names the resource calling an export; see invoker.ts for when it cannot.
  const caller = createInvoker(resource, () => GetInvokingResource() || null, log);
  exports('createDispatchCall', (input: unknown, callback?: unknown) =>
    api.createDispatchCall(caller(), input, callback),
  );
  exports('report911', (playerId: unknown, description: unknown, callback?: unknown) =>
    api.report911(caller(), playerId, description, callback),
  );
  exports('getQueueStatus', () => api.getQueueStatus());

  // Each player gets only the commands their ACEs allow: the rest do not exist on their
  // client, so neither the chat nor a cheat menu lists them. The report path checks again.
  const commandsFor = (player: number): CommandsPayload => ({
    commands: commands
      .filter((c) => c.ace === null || world.aceAllowed(player, c.ace))
      .map((c) => ({ name: c.name, help: c.help })),
    param: { name: messages.suggestionParam, help: messages.suggestionParamHelp },
  });
  onNet(Events.hello, () => {
    const player = source;
    if (!net.allow(player)) return;
    emitNet(Events.commands, player, commandsFor(player));
    characters.caller(player);
  });
  onNet(Events.report, (payload: unknown) => {
    const player = source;
    net.fromNet(player, payload);
  });
  onNet(Events.located, (payload: unknown) => {
    const player = source;
    net.located(player, payload);
  });
  const conflicts = createConflictWatch({
    own: resource,
    commandNames: commands.map((c) => c.name),
    registered: () => GetRegisteredCommands(),
    resourceState: world.resourceState,
    log,
  });
  onNet(Events.conflict, (payload: unknown) => {
    const player = source;
    // The same flood guard as every other event a client sends.
    if (net.allow(player) && !conflicts.fromClient(player, payload)) net.drop();
  });
  conflicts.checkServer();
  // One of our commands typed by a player whose client does not have it (see fromFallback).
  on('__cfx_internal:commandFallback', (raw: unknown) => {
    const player = source;
    if (typeof player !== 'number' || typeof raw !== 'string') return;
    const handled = net.fromFallback(player, raw);
    if (handled === 'granted') emitNet(Events.commands, player, commandsFor(player));
    // Handled: FXServer then does not print "No such command".
    if (handled !== null) CancelEvent();
  });
  on('playerDropped', () => {
    const player = source;
    net.forget(player);
    characters.forget(player);
  });

  // Every framework's events are listened to, so one that starts later is followed too;
  // the store reads only the current framework's.
  const frameworkEvents = new Set(
    Object.values(ADAPTERS).flatMap((make) => make(host).events.map((e) => e.event)),
  );
  for (const event of frameworkEvents) {
    on(event, (...args: unknown[]) => {
      // Read now: `source` is only set for the handler's synchronous part.
      characters.event(event, source, args);
    });
  }
  const watched = new Set([
    ...Object.values(CORE_RESOURCE),
    ...PHONES.map((p) => p.resource),
    ...INVENTORIES.map((i) => i.resource),
  ]);
  /** A framework, phone or inventory started or stopped: choose again and read everyone. */
  const lookAround = (changed: string, state: 'started' | 'stopped') => {
    const next = surroundings(host, config);
    const before = describeSurroundings(around);
    const after = describeSurroundings(next);
    if (after !== before) log.info(`${changed} ${state}: now ${after}`);
    around = next;
    characters.use(next);
    characters.sweep();
  };
  // Characters are read again now and then, for an event a framework forgot to fire.
  const sweeper = setInterval(() => characters.sweep(), CHARACTER_SWEEP_MS);
  characters.sweep();

  // What Sonoran's own resource hears from the CAD (never a receiver of ours, which could
  // take its events): a call closed takes no more reports, and a unit attached is news for
  // everyone whose report is in the call.
  const push = createPushEvents({
    on: (event, handler) => on(event, handler),
    resourceState: world.resourceState,
    log,
    closed(callId) {
      const incident = incidents.byCallId(callId);
      if (incident) incidents.ended(incident.requestId);
    },
    unitAttached(callId) {
      const incident = incidents.byCallId(callId);
      if (!incident || incident.unitsTold) return;
      incident.unitsTold = true;
      tellIncident(incident.players, 'unitsResponding', { callId });
    },
  });
  push.start();

  on('onResourceStart', (name: string) => {
    if (name === config.postals.resource) postals.reload();
    if (name !== resource) conflicts.checkServer();
    if (watched.has(name)) lookAround(name, 'started');
    push.resourceStarted(name);
  });
  on('onResourceStop', (name: string) => {
    if (name === resource) {
      clearInterval(sweeper);
      staff.stop();
      notes.stop();
      dispatch.stop();
      // Our lease ends now rather than lapsing, and the connection closes.
      void shared?.stop();
    } else {
      if (watched.has(name))
        // Still 'stopping' while its own handlers run: choose as if it were gone.
        setTimeout(() => lookAround(name, 'stopped'), 0);
      push.resourceStopped(name);
    }
  });
  RegisterCommand(
    OPERATOR_COMMAND,
    (src: number, args: string[]) => {
      const lines = runConsole(
        {
          scheduler,
          notes: notes.scheduler,
          drop: dispatch.drop,
          now,
          refreshKey: line.refresh,
          ...(shared ? { shared: () => shared.budget.status() } : {}),
        },
        args,
      );
      if (src === 0) for (const line of lines) log.info(line);
      else
        for (const line of lines)
          emitNet('chat:addMessage', src, { args: [OPERATOR_COMMAND, secrets.redact(line)] });
    },
    // Restricted: players need ACE command.sonoran911; the console always may.
    true,
  );
  // Clients already connected when this resource (re)starts may have said hello too early.
  for (const player of getPlayers()) emitNet(Events.commands, player, commandsFor(Number(player)));
}

/** How often every character is read again, for a framework event that never came. */
const CHARACTER_SWEEP_MS = 30_000;

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

main();
