/**
 * Turns the text of config.json plus convars into a validated Config, or into a list of
 * problems a server owner can fix without reading code: each names the key, the value
 * found and what was expected. Unknown keys (usually typos) are dropped with a warning and
 * a suggestion, so one typo does not take the emergency line down.
 */
import type { z } from 'zod';
import { type Config, commandSchema, configSchema } from './config-schema';
import { defaultMessages } from './locale';

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
      /** The key as written in the file, so convars can be read again later (resolveApiKey). */
      fileApiKey: string;
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
  const { key, source: apiKeySource } = resolveApiKey(fileApiKey, sources.convar);
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

  const serverIdText = sources.convar('sonoran911_serverId').trim();
  if (serverIdText !== '') {
    const id = Number(serverIdText);
    if (!Number.isInteger(id) || id < 1) {
      return {
        ok: false,
        errors: [
          `convar sonoran911_serverId = "${serverIdText}": expected a CAD server id, a whole number of 1 or more`,
        ],
        warnings,
      };
    }
    config.api.serverId = id;
  }
  return { ok: true, config, warnings, apiKeySource, fileApiKey };
}

/** Convars win over the file: our own first, then the one Sonoran's resource uses. */
export function resolveApiKey(
  fileKey: string,
  convar: (name: string) => string,
): { key: string; source: ApiKeySource } {
  for (const name of ['sonoran911_apiKey', 'sonoran_apiKey'] as const) {
    const value = convar(name).trim();
    if (value !== '') return { key: value, source: name };
  }
  return fileKey !== '' ? { key: fileKey, source: 'config.json' } : { key: '', source: 'none' };
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? formatPath(issue.path) : '(whole file)';
  const value = /apiKey$/.test(path) ? '(hidden)' : describe(issue.input);
  // A bad record key (identity.overrides) carries the useful message one level down.
  const message =
    issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
  return `${FILE} ${path} = ${value}: ${message}`;
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
