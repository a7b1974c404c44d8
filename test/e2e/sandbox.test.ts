import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalCad, startLocalCad } from '../../sandbox/cad';

const root = resolve(__dirname, '../..');
const cli = join(root, 'dist-tools/sandbox.cjs');

/** Runs the built sandbox CLI as `npm start` would (after its build step). */
function sandbox(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  return new Promise<{ code: number | null; out: string }>((done) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => done({ code, out }));
    if (options.input !== undefined) {
      // A person types, waits for the answer, then quits.
      const lines = options.input.split('\n');
      let i = 0;
      const next = () => {
        if (i < lines.length) {
          child.stdin.write(`${lines[i++]}\n`);
          setTimeout(next, 400);
        } else child.stdin.end();
      };
      setTimeout(next, 300);
    } else child.stdin.end();
  });
}

let cad: LocalCad | null = null;
afterEach(async () => {
  await cad?.close();
  cad = null;
});

describe('npm start (the sandbox)', () => {
  it('runs the quiet-shift example script', async () => {
    const { code, out } = await sandbox(['--script', 'sandbox/scripts/quiet-shift.txt']);
    expect(out).toContain('script passed');
    expect(code).toBe(0);
    expect(out).toMatch(/Jo \(1\)\s+│ Dispatch: Dispatch call #1001 created/);
    expect(out).toMatch(
      /cad\s+│ ← POST \/v2\/emergency\/servers\/1\/dispatch-calls 201 created #1001 "911 Call"/,
    );
  }, 30_000);

  it('runs the bank-robbery example script: outage, restart, budget spent elsewhere', async () => {
    const { code, out } = await sandbox(['--script', 'sandbox/scripts/bank-robbery.txt']);
    expect(out).toContain('script passed');
    expect(code).toBe(0);
    expect(out).toMatch(/outbox: 3 call\(s\) from before the restart will be sent/);
    expect(out).toMatch(/Manager \(4\)\s+│ Dispatch: Dispatch lines are busy/);
  }, 60_000);

  it('runs the framework-shift example script: characters, alerts and blips on Qbox', async () => {
    const { code, out } = await sandbox(['--script', 'sandbox/scripts/framework-shift.txt']);
    expect(out).toContain('script passed');
    expect(code).toBe(0);
    expect(out).toMatch(/framework qbx \(detected: qbx_core is started\)/);
    expect(out).toMatch(/Jo \(1\)\s+│ Dispatch: 2 units on duty were notified/);
    expect(out).toMatch(/Sam \(2\)\s+│ map: blip "911 Call"/);
    // Kim was off duty for the first call, Sam for the last one.
    expect(out).not.toMatch(/Kim \(3\)\s+│ 911: 911 Call: shots fired/);
    expect(out).not.toMatch(/Sam \(2\)\s+│ 911: 911 Call: man down/);
  }, 60_000);

  it('runs the shootout example script: reports folded and noted, units responding, a closed call', async () => {
    const { code, out } = await sandbox(['--script', 'sandbox/scripts/shootout.txt']);
    expect(out).toContain('script passed');
    expect(code).toBe(0);
    expect(out).toMatch(/sonorancad found/);
    expect(out).toMatch(/Sam \(2\)\s+│ Dispatch: Your report was added to dispatch call #1001\./);
    expect(out).toMatch(/cad\s+│ {3}note with #1001: Sam: two men shooting/);
    expect(out).toMatch(
      /cad\s+│ ← POST \/v2\/emergency\/servers\/1\/dispatch-calls\/1001\/notes 200 note added/,
    );
    for (const who of ['Jo \\(1\\)', 'Sam \\(2\\)', 'Ana \\(3\\)'])
      expect(
        out.match(new RegExp(`${who}\\s+│ Dispatch: Units are responding to your call #1001`, 'g')),
      ).toHaveLength(1);
    expect(out).toMatch(/Kim \(4\)\s+│ Dispatch: Dispatch call #1002 created/);
    // One call for the shootout, one after it was closed.
    expect(out.match(/201 created #/g)).toHaveLength(2);
  }, 60_000);

  it('runs two servers on one key and one CAD with --servers 2, sharing the budget through Redis', async () => {
    const { code, out } = await sandbox([
      '--servers',
      '2',
      '--script',
      'sandbox/scripts/two-servers.txt',
    ]);
    expect(out).toContain('script passed');
    expect(code).toBe(0);
    expect(out).toMatch(
      /s2 server\s+│ \[sonoran-911\] shared budget: on Redis as "s2" with 2 servers/,
    );
    // Calls raised on either server reach the CAD; each line says which server it is from.
    expect(out).toMatch(/s1 Jo \(1\)\s+│ Dispatch: Dispatch call #\d+ created/);
    expect(out).toMatch(/s2 Ana \(1\)\s+│ Dispatch: Dispatch call #\d+ created/);
    expect(out).toMatch(/s1 server\s+│ \[sonoran-911\] shared budget: "s1"/);
    expect(out).toMatch(/s2 server\s+│ \[sonoran-911\] shared budget: "s2"/);
    // Redis killed mid-burst and started again: the calls raised meanwhile still go, no 429.
    expect(out).toMatch(/s2 Max \(3\)\s+│ Dispatch: Dispatch call #\d+ created/);
    expect(out).toMatch(/s1 server\s+│ \[sonoran-911\] shared budget: Redis answers again/);
    expect(out.match(/201 created #/g)).toHaveLength(6);
    expect(out).not.toMatch(/ 429 /);
  }, 90_000);

  it('sends commands to the server the prompt shows, or to the one an @ names', async () => {
    const { code, out } = await sandbox(['--servers', '2'], {
      input: 'server 2\njoin Ana\nas Ana /911 a car is on fire\n@1 status\n@3 status\nquit',
    });
    expect(code).toBe(0);
    expect(out).toContain('sonoran-911 s1> ');
    expect(out).toContain('sonoran-911 s2> ');
    expect(out).toMatch(/s2 Ana \(1\)\s+│ Dispatch: Dispatch call #1001 created/);
    expect(out).toMatch(/s1 server\s+│ \[sonoran-911\] queue: 0 waiting/);
    expect(out).toMatch(/no server "3": 1 \(s1\), 2 \(s2\)/);
    const bad = await sandbox(['--servers', '4']);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--servers takes 1, 2 or 3/);
  }, 30_000);

  it('fails a script whose expectation is not met, naming the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-'));
    const script = join(dir, 'bad.txt');
    writeFileSync(
      script,
      'join Jo\nas Jo /911 hello\nexpect Jo this never appears 1\njoin Never\n',
    );
    const { code, out } = await sandbox(['--script', script]);
    expect(code).toBe(1);
    expect(out).toMatch(/line 3 failed: after 1 s nothing that Jo saw matches/);
    expect(out).not.toContain('Never joined');
  }, 30_000);

  it('shows a prompt and answers a person typing commands', async () => {
    const { code, out } = await sandbox([], {
      input: 'join Jo\nas Jo /911 shots fired at the bank\nstatus\nquit',
    });
    expect(code).toBe(0);
    expect(out).toContain('sonoran-911> ');
    expect(out).toMatch(/Jo \(1\)\s+│ Dispatch: Dispatch call #1001 created/);
    expect(out).toMatch(/queue: 0 waiting/);
  }, 30_000);

  it('reports the problems of a broken config the way the server console would', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-'));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ commands: [{ name: '911', priority: 'high' }] }));
    const { out } = await sandbox(['--config', config], {
      input: 'join Jo\nas Jo /911 help\nquit',
    });
    expect(out).toContain('config.json commands[0].priority = "high": expected a whole number');
    expect(out).toMatch(/Jo \(1\)\s+│ Dispatch: The emergency line is unavailable/);
  }, 30_000);

  it('points at another CAD with --cad and the key from SONORAN911_API_KEY', async () => {
    cad = await startLocalCad({ keys: { 'staging-key-123': { serverIds: [1] } } });
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-'));
    const script = join(dir, 'real.txt');
    writeFileSync(script, 'join Jo\nas Jo /911 staging test\nexpect Jo created\n');
    const { code, out } = await sandbox(['--cad', cad.url, '--script', script], {
      env: { SONORAN911_API_KEY: 'staging-key-123' },
    });
    expect(code).toBe(0);
    expect(cad.calls.map((c) => c.body.description)).toEqual(['staging test']);
    expect(cad.calls[0]!.headers.authorization).toBe('Bearer staging-key-123');
    expect(out).not.toContain('staging-key-123');
    const missing = await sandbox(['--cad', cad.url]);
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/needs the API key in the environment/);
  }, 30_000);
});

describe('npm run package', () => {
  it('assembles exactly what a server installs: owner docs, no package.json', async () => {
    const { execFileSync } = await import('node:child_process');
    const { readdirSync } = await import('node:fs');
    execFileSync(process.execPath, ['package.mjs'], { cwd: root });
    const out = join(root, 'release/sonoran-911');
    const files = readdirSync(out, { recursive: true }).map(String).sort();
    expect(files).toEqual([
      'README.md',
      'config.json',
      'dist',
      'dist/client.js',
      'dist/server.js',
      'docs',
      'docs/config.md',
      'docs/exports.md',
      'docs/frameworks.md',
      'docs/operators.md',
      'docs/security.md',
      'fxmanifest.lua',
    ]);
    // Contributor notes stay in the repository.
    expect(files).not.toContain('CONTRIBUTING.md');
    // Everything the manifest loads is there.
    const { readFileSync } = await import('node:fs');
    const manifest = readFileSync(join(out, 'fxmanifest.lua'), 'utf8');
    for (const [, script] of manifest.matchAll(/_script '([^']+)'/g))
      expect(files).toContain(script);
    expect(manifest).not.toMatch(/^\s*files/m);
    // One version: the release says package.json's.
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(manifest).toMatch(new RegExp(`^version '${version.replaceAll('.', '\\.')}'$`, 'm'));
  });
});
