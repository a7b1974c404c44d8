/**
 * Server entry point: the only file with effects at load. It reads the configuration,
 * wires the parts together, takes back the calls a previous run left, and binds events and
 * the operator command; every part lives in its own module.
 */
import { randomUUID } from 'node:crypto';
import type { LocationFormats } from '../shared/call';
import { steadyClock } from '../shared/clock';
import { loadConfig, resolveApiKey, resolveServerId } from '../shared/config-load';
import { configSchema, OPERATOR_COMMAND } from '../shared/config-schema';
import { Cooldowns } from '../shared/cooldown';
import { type CommandsPayload, Events } from '../shared/events';
import { defaultMessages, type Messages } from '../shared/locale';
import { createConflictWatch } from './conflicts';
import { type RefreshedSettings, runConsole } from './console';
import { createDispatch } from './dispatch';
import { createExports } from './exports';
import { createIntake, type IntakeApi } from './intake';
import { createInvoker } from './invoker';
import { resourceKvp } from './kvp';
import { createLocator } from './locate';
import { createLogger, Secrets } from './log';
import { createNotifier } from './notify';
import { createPostals } from './postals';
import { createReports } from './reports';
import { createTransport } from './transport';
import { nativeWorld } from './world';

function main(): void {
  const world = nativeWorld;
  const resource = world.resourceName();
  let apiKey = '';
  // Every secret, redacted from the console, from what the CAD answers (before it is stored
  // in KVP or shown) and from chat. A webhook or Redis URL would be one more secrets.set.
  const secrets = new Secrets();
  const rememberKey = (): void =>
    secrets.set(
      'apiKey',
      apiKey,
      world.convar('sonoran911_apiKey'),
      world.convar('sonoran_apiKey'),
      loaded.ok ? loaded.fileApiKey : '',
    );
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
  apiKey = config.api.apiKey;
  let apiKeyProblem = loaded.ok ? loaded.apiKeyProblem : null;
  let apiKeyFrom = !loaded.ok
    ? 'none'
    : loaded.apiKeySource === 'config.json' || loaded.apiKeySource === 'none'
      ? loaded.apiKeySource
      : `convar ${loaded.apiKeySource}`;
  rememberKey();
  // Read at every request like the key, so "sonoran911 retry all" can move calls to a fixed id.
  let serverId = config.api.serverId;
  let serverIdFrom =
    world.convar('sonoran911_serverId').trim() !== ''
      ? 'convar sonoran911_serverId'
      : 'config.json';

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
  // The intake needs the dispatch and the dispatch reports to the intake: tie the knot late.
  let intake: IntakeApi | null = null;
  const dispatch = createDispatch(
    {
      send: createTransport({
        ...config.api,
        apiKey: () => apiKey,
        serverId: () => serverId,
        redact: (text) => secrets.redact(text),
        notice: (message) => log.warn(message),
      }),
      onResult: (result) => intake?.settled(result),
      store: resourceKvp,
      world,
      log,
      notifier,
      emitLocal: (event, ...args) => emit(event, ...args),
      now,
      timers,
      random: Math.random,
    },
    {
      requests: config.rateLimit.requests,
      windowMs: config.rateLimit.windowSeconds * 1000,
      marginMs: config.rateLimit.marginMs,
      ...config.retry,
      maxQueue: config.queue.maxLength,
      agingMs: config.queue.agingSeconds * 1000,
      maxRequestMs: config.api.timeoutMs,
    },
  );
  const { scheduler } = dispatch;
  // Calls a previous run accepted go out once there is a key to send them with.
  let restored = false;
  const restoreOnce = (): void => {
    if (restored || !loaded.ok || apiKey === '') return;
    restored = true;
    dispatch.restore();
  };
  /**
   * `sonoran911 retry` reads the key and server id convars again. A value that cannot be
   * used leaves the one in use as it is, and the answer says why.
   */
  const refreshKey = (): RefreshedSettings => {
    const problems: string[] = [];
    const found = resolveApiKey(loaded.ok ? loaded.fileApiKey : '', world.convar);
    if (found.problem === null) {
      apiKey = found.key;
      apiKeyProblem = null;
      apiKeyFrom =
        found.source === 'config.json' || found.source === 'none'
          ? found.source
          : `convar ${found.source}`;
    } else if (apiKey !== '') {
      problems.push(`${found.problem}; the API key from ${apiKeyFrom} stays in use`);
    } else {
      apiKeyProblem = found.problem;
      problems.push(found.problem);
    }
    rememberKey();
    const id = resolveServerId(loaded.ok ? loaded.fileServerId : config.api.serverId, world.convar);
    if (id.problem === null) {
      serverId = id.id;
      serverIdFrom = id.source;
    } else {
      problems.push(`${id.problem}; CAD server ${serverId} (from ${serverIdFrom}) stays in use`);
    }
    restoreOnce();
    return { apiKeyFrom: apiKey === '' ? 'none' : apiKeyFrom, serverId, serverIdFrom, problems };
  };

  const unavailable = (): string | null => {
    if (!loaded.ok) return 'config.json is invalid';
    if (apiKey === '') return apiKeyProblem !== null ? 'the API key cannot be used' : 'no API key';
    const pause = scheduler.status().pause;
    if (pause && pause.until === null) return pause.reason;
    return null;
  };

  if (loaded.ok) {
    if (loaded.apiKeySource === 'none') {
      log.error(
        'no API key: set sonoran911_apiKey "..." in server.cfg; every call is refused until then',
      );
    }
    if (apiKeyProblem !== null) log.error(`${apiKeyProblem}. Every call is refused until then`);
    const source =
      apiKeyProblem !== null
        ? `${apiKeyFrom}, refused: see above`
        : loaded.apiKeySource === 'config.json'
          ? 'config.json'
          : `convar ${loaded.apiKeySource}`;
    log.info(
      `ready: ${commands.map((c) => `/${c.name}`).join(', ')} -> CAD server ${config.api.serverId} at ${config.api.baseUrl}` +
        ` (API key from ${source}), at most ${config.rateLimit.requests} request(s) per ${config.rateLimit.windowSeconds} s`,
    );
    restoreOnce();
  }

  intake = createIntake({ dispatch, unavailable, log });
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
    timeoutMs: 1_500,
  });
  const reports = createReports({
    world,
    config,
    messages,
    formats,
    commands,
    unavailable,
    dispatch,
    intake,
    locator,
    postals,
    notifier,
    cooldowns: new Cooldowns(),
    log,
    now,
    newId: randomUUID,
  });
  const api = createExports({
    world,
    config,
    formats,
    dispatch,
    intake,
    reports,
    locator,
    postals,
    log,
    now,
    newId: randomUUID,
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
    if (reports.hello(player)) emitNet(Events.commands, player, commandsFor(player));
  });
  onNet(Events.report, (payload: unknown) => {
    const player = source;
    reports.fromNet(player, payload);
  });
  onNet(Events.located, (payload: unknown) => {
    const player = source;
    reports.located(player, payload);
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
    if (reports.hello(player) && !conflicts.fromClient(player, payload)) reports.stats.dropped++;
  });
  conflicts.checkServer();
  // One of our commands typed by a player whose client does not have it (see fromFallback).
  on('__cfx_internal:commandFallback', (raw: unknown) => {
    const player = source;
    if (typeof player !== 'number' || typeof raw !== 'string') return;
    const handled = reports.fromFallback(player, raw);
    if (handled === 'granted') emitNet(Events.commands, player, commandsFor(player));
    // Handled: FXServer then does not print "No such command".
    if (handled !== null) CancelEvent();
  });
  on('playerDropped', () => {
    const player = source;
    reports.forget(player);
  });
  on('onResourceStart', (name: string) => {
    if (name === config.postals.resource) postals.reload();
    if (name !== resource) conflicts.checkServer();
  });
  on('onResourceStop', (name: string) => {
    if (name === resource) dispatch.stop();
  });
  RegisterCommand(
    OPERATOR_COMMAND,
    (src: number, args: string[]) => {
      const lines = runConsole({ scheduler, drop: dispatch.drop, now, refreshKey }, args);
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

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

main();
