/**
 * `npm start`: the built resource in a sandbox, with a prompt for a person or a script for
 * CI. No game server, no CAD credentials.
 *
 *   npm start                               interactive, the project's config.json
 *   npm start -- --config my-config.json    another config file
 *   npm start -- --script sandbox/scripts/quiet-shift.txt
 *   npm start -- --no-sonorancad            without the sonorancad stand-in (no push events)
 *   npm start -- --servers 2                two servers on one key and one CAD (sharing its
 *                                           budget through a local redis-server if installed)
 *   SONORAN911_API_KEY=... npm start -- --cad https://staging-api.dev.sonorancad.com
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Session } from './session';

interface Args {
  config: string;
  script: string | null;
  cad: string | null;
  sonorancad: boolean;
  servers: number;
}

function parseArgs(argv: string[]): Args | string {
  const args: Args = {
    config: 'config.json',
    script: null,
    cad: null,
    sonorancad: true,
    servers: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') return 'usage';
    if (flag === '--no-sonorancad') {
      args.sonorancad = false;
      continue;
    }
    if (flag !== '--config' && flag !== '--script' && flag !== '--cad' && flag !== '--servers')
      return `unknown option ${flag}`;
    if (value === undefined) return `${flag} needs a value`;
    if (flag === '--servers') {
      if (!/^[123]$/.test(value)) return '--servers takes 1, 2 or 3';
      args.servers = Number(value);
      i++;
      continue;
    }
    args[flag.slice(2) as 'config' | 'script' | 'cad'] = value;
    i++;
  }
  return args;
}

const USAGE =
  'usage: npm start -- [--config FILE] [--script FILE] [--cad URL (with SONORAN911_API_KEY set)] [--no-sonorancad] [--servers 1|2|3]';

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    console.error(args === 'usage' ? USAGE : `${args}\n${USAGE}`);
    return args === 'usage' ? 0 : 2;
  }
  const root = resolve(__dirname, '..');
  const read = (path: string) => readFileSync(path, 'utf8');
  const dist = (file: string) => {
    const path = resolve(root, 'dist', file);
    if (!existsSync(path))
      throw new Error(`${path} is missing: run "npm run build" (npm start does)`);
    return read(path);
  };

  let realCad: { url: string; apiKey: string } | undefined;
  if (args.cad) {
    const apiKey = process.env.SONORAN911_API_KEY ?? '';
    if (apiKey === '') {
      console.error(
        '--cad needs the API key in the environment: SONORAN911_API_KEY=... npm start -- --cad URL',
      );
      return 2;
    }
    realCad = { url: args.cad.replace(/\/+$/, ''), apiKey };
  }
  const configPath = resolve(process.cwd(), args.config);
  const configText = existsSync(configPath) ? read(configPath) : null;
  const files = postalFile(configText, dirname(configPath));

  const color = process.stdout.isTTY === true && !process.env.NO_COLOR && args.script === null;
  const scripted = args.script !== null;
  let rl: ReturnType<typeof createInterface> | null = null;
  // Lines printed while a person types go above the prompt, which is then drawn again.
  const out = (line: string) => {
    if (rl && !scripted && process.stdout.isTTY) {
      process.stdout.write(`\r\u001b[K${line}\n`);
      rl.prompt(true);
    } else {
      process.stdout.write(`${line}\n`);
    }
  };

  out(
    `config: ${configText === null ? `${configPath} not found, running on defaults` : configPath}`,
  );
  const session = await Session.start({
    serverJs: dist('server.js'),
    clientJs: dist('client.js'),
    configText,
    files,
    ...(realCad ? { realCad } : {}),
    out,
    color,
    sonorancad: args.sonorancad,
    servers: args.servers,
  });

  if (args.script !== null) {
    const lines = read(resolve(process.cwd(), args.script)).split(/\r?\n/);
    let failed = 0;
    for (const [index, raw] of lines.entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      out(`> ${line}`);
      if (line === 'quit') break;
      const result = await session.run(line);
      if (!result.ok) {
        out(`line ${index + 1} failed: ${result.error}`);
        failed++;
        break;
      }
    }
    const errors = session.errors();
    for (const e of errors) out(`script error in the resource: ${e}`);
    await session.close();
    const ok = failed === 0 && errors.length === 0;
    out(ok ? `script passed: ${args.script}` : `script failed: ${args.script}`);
    return ok ? 0 : 1;
  }

  out(
    args.servers > 1
      ? `type "help" for the commands; try: join Jo, then: @2 join Ana, then: as Jo /911 shots fired, then: as Ana /911 a fire (server 2 switches; the prompt shows where commands go)`
      : 'type "help" for the commands; try: join Jo, then: as Jo /911 shots fired at the bank',
  );
  rl = createInterface({ input: process.stdin, output: process.stdout, prompt: session.prompt() });
  rl.prompt();
  for await (const line of rl) {
    if (line.trim() === 'quit' || line.trim() === 'exit') break;
    const result = await session.run(line);
    if (!result.ok) out(`✗ ${result.error}`);
    rl.setPrompt(session.prompt());
    rl.prompt();
  }
  rl.close();
  await session.close();
  return 0;
}

/** A postals.file named in the config is read from beside it, as the resource would. */
function postalFile(configText: string | null, dir: string): Record<string, string> {
  try {
    const file = (JSON.parse(configText ?? '{}') as { postals?: { file?: unknown } }).postals?.file;
    if (typeof file !== 'string') return {};
    const path = resolve(dir, file);
    return existsSync(path) ? { [file]: readFileSync(path, 'utf8') } : {};
  } catch {
    return {};
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
