/**
 * One emulated FXServer with the built resource, a nearest-postal resource, and a local CAD.
 * End-to-end tests load dist/ as FXServer would, so they test what ships.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type LocalCad, startLocalCad } from '../../sandbox/cad';
import { FxServer, type FxServerOptions } from '../../sandbox/emulator';

export const RESOURCE = 'sonoran-911';
export const API_KEY = 'test-key-0123456789abcdef';

// SONORAN911_DIST points the rig at other bundles, e.g. an older build, to show that a
// new test fails on the code it guards against.
const dist = (file: string): string => {
  const path = resolve(process.env.SONORAN911_DIST ?? resolve(__dirname, '../../dist'), file);
  if (!existsSync(path)) throw new Error(`${path} is missing: run "npm run build" first`);
  return readFileSync(path, 'utf8');
};

export const POSTALS = [
  { x: 100, y: -800, code: '8001' },
  { x: 420, y: -980, code: '8055' },
  { x: -1200, y: 3000, code: '1030' },
];

export interface RigOptions {
  /** config.json contents (merged over a base that points at the local CAD), or a raw string. */
  config?: Record<string, unknown> | string;
  convars?: Record<string, string>;
  cad?: Parameters<typeof startLocalCad>[0];
  /** A CAD several rigs share (servers on one key); the rig leaves it open on close. */
  sharedCad?: LocalCad;
  postals?: boolean;
  /** Emulator options, e.g. a server build whose GetInvokingResource misreports. */
  fx?: Omit<FxServerOptions, 'convars'>;
  /** Resources started before this one, as server.cfg lists them (a framework, a phone). */
  before?: (fx: FxServer) => Promise<void>;
}

export async function startRig(options: RigOptions = {}) {
  const cad =
    options.sharedCad ??
    (await startLocalCad({ keys: { [API_KEY]: { serverIds: [1] } }, ...options.cad }));
  const fx = new FxServer({
    ...options.fx,
    convars: options.convars ?? { sonoran911_apiKey: API_KEY },
  });
  if (options.postals !== false) {
    fx.startResource('nearest-postal', {
      files: { 'new-postals.json': JSON.stringify(POSTALS) },
      metadata: { postal_file: ['new-postals.json'] },
    });
  }
  await options.before?.(fx);
  // Merging off unless a test turns it on: most tests send several calls from one place and
  // count them (test/e2e/merge.test.ts covers merging).
  const base = { api: { baseUrl: cad.url, timeoutMs: 2_000 }, merge: null };
  const configText =
    typeof options.config === 'string'
      ? options.config
      : JSON.stringify(deepMerge(base, options.config ?? {}), null, 2);
  const server = dist('server.js');
  const client = dist('client.js');
  const files = { 'config.json': configText };
  fx.startResource(RESOURCE, { server, client, files });

  const rig = {
    fx,
    cad,
    /** Console lines of this resource. */
    log: () => fx.serverLog(RESOURCE).join('\n'),
    restart: () => fx.restartResource(RESOURCE),
    async close() {
      fx.shutdown();
      if (!options.sharedCad) await cad.close();
    },
  };
  return rig;
}

export type Rig = Awaited<ReturnType<typeof startRig>>;

export const bankRobber = {
  name: 'Jo Bloggs',
  identifiers: ['license:1a2b3c4d5e', 'discord:998877', 'ip:10.1.2.3'],
  position: [425.1, -979.2, 30.7] as [number, number, number],
  heading: 91.6,
  street: 'Alta St',
  crossing: 'Integrity Way',
  zone: { code: 'DOWNT', label: 'Downtown' },
};

function deepMerge(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === 'object' &&
      !Array.isArray(prev)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** Whether a player has read a chat line matching `pattern`. */
export const said = (player: { chat: { text: string }[] }, pattern: RegExp): boolean =>
  player.chat.some((m) => pattern.test(m.text));

/** Operator command output without the resource prefix. */
export const op = (r: Rig, line: string): string[] =>
  r.fx.console(line).map((l) => l.replace(/^\[[^\]]+\] /, ''));

/** `count` players with their own licenses, once their clients have registered /911. */
export async function playersReady(r: Rig, count: number) {
  const players = Array.from({ length: count }, (_, i) =>
    r.fx.addPlayer({ ...bankRobber, name: `Caller ${i}`, identifiers: [`license:caller${i}`] }),
  );
  await r.fx.waitFor(() => players.every((p) => p.hasClientCommand('911')), {
    what: 'clients ready',
  });
  return players;
}
