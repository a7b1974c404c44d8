/**
 * The emergency line: the API key and CAD server id calls are sent with (read at start and
 * again by `sonoran911 retry`), and the one answer to "can a call be taken now?".
 */
import { type LoadedConfig, resolveApiKey, resolveServerId } from '../shared/config/load';
import type { Config } from '../shared/config/schema';
import type { Pause } from '../shared/delivery/scheduler';
import type { RefreshedSettings } from './console';
import type { Logger, Secrets } from './log';

export interface LineDeps {
  loaded: LoadedConfig;
  /** The config in force: the file's, or the defaults when the file is broken. */
  config: Config;
  convar(name: string): string;
  secrets: Secrets;
  log: Logger;
}

export function createLine(deps: LineDeps) {
  const { loaded, config, convar, secrets, log } = deps;
  const fileKey = loaded.ok ? loaded.fileApiKey : '';
  let apiKey = config.api.apiKey;
  let apiKeyProblem = loaded.ok ? loaded.apiKeyProblem : null;
  let apiKeyFrom = !loaded.ok ? 'none' : described(loaded.apiKeySource);
  // Every secret, redacted from the console, from what the CAD answers and from chat.
  const rememberKey = (): void =>
    secrets.set('apiKey', apiKey, convar('sonoran911_apiKey'), convar('sonoran_apiKey'), fileKey);
  rememberKey();
  // Read at every request like the key, so "sonoran911 retry all" can move calls to a fixed id.
  let serverId = config.api.serverId;
  let serverIdFrom =
    convar('sonoran911_serverId').trim() !== '' ? 'convar sonoran911_serverId' : 'config.json';
  let restore: (() => void) | null = null;
  let restored = false;
  // Calls a previous run accepted go out once there is a key to send them with.
  const restoreOnce = (): void => {
    if (restored || restore === null || !loaded.ok || apiKey === '') return;
    restored = true;
    restore();
  };

  return {
    apiKey: (): string => apiKey,
    serverId: (): number => serverId,

    /** Why no call can be taken now (given the sender's pause), or null when the line is open. */
    down(pause: Pause | null): string | null {
      if (!loaded.ok) return 'config.json is invalid';
      if (apiKey === '')
        return apiKeyProblem !== null ? 'the API key cannot be used' : 'no API key';
      if (pause && pause.until === null) return pause.reason;
      return null;
    },

    /**
     * Says on the console which key is in use (or why none is), and takes back the calls a
     * previous run left with `restoreCalls` as soon as there is a key.
     */
    open(commandNames: readonly string[], restoreCalls: () => void, surroundings = ''): void {
      restore = restoreCalls;
      if (!loaded.ok) return;
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
        `ready: ${commandNames.map((c) => `/${c}`).join(', ')} -> CAD server ${config.api.serverId} at ${config.api.baseUrl}` +
          ` (API key from ${source}), at most ${config.rateLimit.requests} request(s) per ${config.rateLimit.windowSeconds} s` +
          (surroundings ? `; ${surroundings}` : ''),
      );
      restoreOnce();
    },

    /**
     * `sonoran911 retry` reads the key and server id convars again. A value that cannot be
     * used leaves the one in use as it is, and the answer says why.
     */
    refresh(): RefreshedSettings {
      const problems: string[] = [];
      const found = resolveApiKey(fileKey, convar);
      if (found.problem === null) {
        apiKey = found.key;
        apiKeyProblem = null;
        apiKeyFrom = described(found.source);
      } else if (apiKey !== '') {
        problems.push(`${found.problem}; the API key from ${apiKeyFrom} stays in use`);
      } else {
        apiKeyProblem = found.problem;
        problems.push(found.problem);
      }
      rememberKey();
      const id = resolveServerId(loaded.ok ? loaded.fileServerId : config.api.serverId, convar);
      if (id.problem === null) {
        serverId = id.id;
        serverIdFrom = id.source;
      } else {
        problems.push(`${id.problem}; CAD server ${serverId} (from ${serverIdFrom}) stays in use`);
      }
      restoreOnce();
      return { apiKeyFrom: apiKey === '' ? 'none' : apiKeyFrom, serverId, serverIdFrom, problems };
    },
  };
}

export type Line = ReturnType<typeof createLine>;

const described = (source: string): string =>
  source === 'config.json' || source === 'none' ? source : `convar ${source}`;
