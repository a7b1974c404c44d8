/**
 * Turns the text of config.json plus convars into a validated Config, or into a list of
 * problems a server owner can fix without reading code: each names the key, the value
 * found and what was expected. Unknown keys (usually typos) are dropped with a warning and
 * a suggestion, so one typo does not take the emergency line down.
 */
import type { z } from 'zod';
import { defaultMessages } from './locale';
import { type Config, commandSchema, configSchema } from './schema';

export interface ConfigSources {
  /** config.json as text, or null when the file is missing. */
  fileText: string | null;
  /** A convar's value; '' when unset. */
  convar: (name: string) => string;
}

export type ApiKeySource = 'sonoran911_apiKey' | 'sonoran_apiKey' | 'config.json' | 'none';

export type LoadedConfig =
  | {
      ok: true;
      config: Config;
      warnings: string[];
      apiKeySource: ApiKeySource;
      /**
       * What is wrong with the key found at apiKeySource (never the key itself), or null.
       * With a problem the key is '' and every call is refused, as with no key at all.
       */
      apiKeyProblem: string | null;
      /** The key as written in the file, so convars can be read again later (resolveApiKey). */
      fileApiKey: string;
      /** api.serverId as written in the file, so the convar can be read again (resolveServerId). */
      fileServerId: number;
    }
  | { ok: false; errors: string[]; warnings: string[] };

const FILE = 'config.json';

export function loadConfig(sources: ConfigSources): LoadedConfig {
  const warnings: string[] = [];
  let raw: unknown = {};
  if (sources.fileText === null) {
    warnings.push(`${FILE} not found: running with every default`);
  } else {
    try {
      raw = JSON.parse(sources.fileText);
    } catch (err) {
      return {
        ok: false,
        errors: [`${FILE} is not valid JSON: ${(err as Error).message}`],
        warnings,
      };
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      errors: [`${FILE} must hold one JSON object ({ ... }), found ${describe(raw)}`],
      warnings,
    };
  }

  let result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const unknown = result.error.issues.filter((i) => i.code === 'unrecognized_keys');
    if (unknown.length > 0) {
      raw = structuredClone(raw);
      for (const issue of unknown) {
        for (const key of issue.keys) {
          warnings.push(unknownKeyWarning(issue.path, key));
          const parent = at(raw, issue.path);
          if (parent && typeof parent === 'object') delete (parent as Record<string, unknown>)[key];
        }
      }
      result = configSchema.safeParse(raw, { reportInput: true });
    }
  }
  if (!result.success) {
    return { ok: false, errors: result.error.issues.map(formatIssue), warnings };
  }

  const config = result.data;
  const fileApiKey = config.api.apiKey;
  const fileServerId = config.api.serverId;
  const {
    key,
    source: apiKeySource,
    problem: apiKeyProblem,
  } = resolveApiKey(fileApiKey, sources.convar);
  if (apiKeySource !== 'config.json' && apiKeySource !== 'none' && config.api.apiKey !== '') {
    warnings.push(
      `${FILE} api.apiKey is ignored because the convar ${apiKeySource} is set: remove the key from ${FILE}`,
    );
  } else if (apiKeySource === 'config.json') {
    warnings.push(
      `the API key is stored in ${FILE}: move it to server.cfg as  set sonoran911_apiKey "..."  and remove it from the file`,
    );
  }
  config.api.apiKey = key;

  const serverId = resolveServerId(fileServerId, sources.convar);
  if (serverId.problem !== null) return { ok: false, errors: [serverId.problem], warnings };
  config.api.serverId = serverId.id;
  return {
    ok: true,
    config,
    warnings,
    apiKeySource,
    apiKeyProblem,
    fileApiKey,
    fileServerId,
  };
}

/**
 * Convars win over the file: our own first, then the one Sonoran's resource uses. What is
 * safe to trim is trimmed (blanks, line breaks and quotes around the key, as a copy from a
 * web page or chat brings them); a key HTTP cannot carry is refused with `problem`, which
 * says what is wrong and where the key came from, never the key.
 */
export function resolveApiKey(
  fileKey: string,
  convar: (name: string) => string,
): { key: string; source: ApiKeySource; problem: string | null } {
  const sources: [Exclude<ApiKeySource, 'none'>, string, string][] = [
    ['sonoran911_apiKey', convar('sonoran911_apiKey'), 'convar sonoran911_apiKey'],
    ['sonoran_apiKey', convar('sonoran_apiKey'), 'convar sonoran_apiKey'],
    ['config.json', fileKey, `${FILE} api.apiKey`],
  ];
  for (const [source, raw, where] of sources) {
    const key = trimApiKey(raw);
    if (key === '') continue;
    const problem = apiKeyProblem(key);
    if (problem === null) return { key, source, problem: null };
    const fix =
      source === 'config.json'
        ? `fix ${FILE} and restart the resource`
        : `set it again without it (set ${source} "...") and run "sonoran911 retry all"`;
    return {
      key: '',
      source,
      problem: `${where}: the API key ${problem}, which an API key never has and an HTTP header cannot carry: ${fix}`,
    };
  }
  return { key: '', source: 'none', problem: null };
}

/** Blanks and invisible characters, quotes straight and typographic: never part of a key. */
const EDGE =
  /^[\s\u200b-\u200d\u2060\ufeff"'`\u2018-\u201f\u00ab\u00bb\u2039\u203a]+|[\s\u200b-\u200d\u2060\ufeff"'`\u2018-\u201f\u00ab\u00bb\u2039\u203a]+$/g;

export function trimApiKey(raw: string): string {
  return raw.replace(EDGE, '');
}

/**
 * What is wrong with a trimmed key, or null. A bearer token is visible ASCII: anything else
 * makes fetch refuse the header (every attempt a "network error" forever) or reach the CAD
 * as bytes no key has. Says which character and where, never the key.
 */
export function apiKeyProblem(key: string): string | null {
  const chars = [...key];
  const at = chars.findIndex((c) => c < '!' || c > '~');
  if (at < 0) return null;
  const c = chars[at]!;
  const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  const what =
    c === '\n' || c === '\r'
      ? 'a line break'
      : c === '\t'
        ? 'a tab'
        : /\s/.test(c)
          ? `a space (${code})`
          : /[\u2018-\u201f\u00ab\u00bb\u2039\u203a]/.test(c)
            ? `a typographic quote (${code})`
            : c < ' ' || c === '\u007f'
              ? `a control character (${code})`
              : `a character outside plain ASCII (${code})`;
  return `contains ${what} (character ${at + 1} of ${chars.length})`;
}

/** The highest CAD server id api.serverId accepts (config/schema.ts). */
const MAX_SERVER_ID = 1_000_000;

/**
 * The CAD server id: the convar sonoran911_serverId when set, else the file's. Decimal digits
 * only: Number() would read "0x10" as 16 and "1e3" as 1000.
 */
export function resolveServerId(
  fileServerId: number,
  convar: (name: string) => string,
): { id: number; source: string; problem: string | null } {
  const text = convar('sonoran911_serverId').trim();
  if (text === '') return { id: fileServerId, source: FILE, problem: null };
  const id = /^[0-9]{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (id >= 1 && id <= MAX_SERVER_ID) {
    return { id, source: 'convar sonoran911_serverId', problem: null };
  }
  return {
    id: fileServerId,
    source: FILE,
    problem: `convar sonoran911_serverId = ${describe(text)}: expected a CAD server id, a whole number from 1 to ${MAX_SERVER_ID} in decimal digits`,
  };
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? formatPath(issue.path) : '(whole file)';
  // `api` itself when it is not an object: whatever it holds may be the key. The webhook URL
  // holds Discord's token.
  const value =
    /apiKey$/.test(path) ||
    path === 'api' ||
    /^staffWebhook/.test(path) ||
    /^sharedBudget(\.redisUrl)?$/.test(path)
      ? '(hidden)'
      : /baseUrl$/.test(path) && typeof issue.input === 'string'
        ? describe(hideUrlSecrets(issue.input))
        : describe(issue.input);
  // A bad record key (identity.overrides) carries the useful message one level down.
  const message =
    issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
  return `${FILE} ${path} = ${value}: ${message}`;
}

/** A URL without what may be secret in it: user name and password, query, fragment. */
export function hideUrlSecrets(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^?#]*@/i, '$1***@')
    .replace(/\?[^#]*/, '?…')
    .replace(/#.*$/s, '#…');
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

function describe(value: unknown): string {
  if (value === undefined) return '(missing)';
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function at(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function knownKeys(path: readonly PropertyKey[]): string[] {
  if (path[0] === 'messages') return Object.keys(defaultMessages);
  if (path[0] === 'commands') return Object.keys(commandSchema.parse({ name: 'x' }));
  const node = at(configSchema.parse({}), path);
  return node && typeof node === 'object' ? Object.keys(node) : [];
}

function unknownKeyWarning(path: readonly PropertyKey[], key: string): string {
  const full = formatPath([...path, key]);
  const near = knownKeys(path).find(
    (k) => k.toLowerCase() === key.toLowerCase() || distance(k, key) <= 2,
  );
  const hint = near ? ` (did you mean "${formatPath([...path, near])}"?)` : '';
  return `${FILE} ${full}: unknown key ignored${hint}`;
}

/** Levenshtein distance; keys are short, so the quadratic table is fine. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}
