// `npm test` runs this first. The tests of the budget shared through Redis run against a real
// redis-server (sandbox/support/redis.ts starts one per test file on a free loopback port), and
// the project's rule is that the README's test command, `npm ci && npm test`, installs any
// system package the tests need: `.ci/run` runs exactly that command on a fresh machine.
//
// When redis-server is already there this does nothing. Otherwise it installs Debian's package
// (as root, or through `sudo -n` so that it never waits for a password), and fails with what to
// install when it cannot.
//
// The package's postinst may try to start the system service on port 6379: in containers
// policy-rc.d refuses, elsewhere it may run. Either way is fine, because no test connects to
// it: each test starts its own server on a port the kernel picked.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const BINARY = 'redis-server';
// Debian's package; it also puts the binary in /usr/bin, which a trimmed PATH may lack.
const PACKAGE = 'redis-server';
const HINT =
  `the tests need ${BINARY} (Redis 6 or newer) on PATH: on Debian or Ubuntu, ` +
  `\`sudo apt-get install ${PACKAGE}\`; on macOS, \`brew install redis\``;

/** The first executable redis-server on PATH or in the usual system folders, or undefined. */
function findRedisServer() {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/bin', '/usr/sbin', '/usr/local/bin']) {
    const path = join(dir, BINARY);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether `argv` runs and exits 0; its output goes to the terminal. */
function run(argv, quiet = false) {
  const result = spawnSync(argv[0], argv.slice(1), {
    stdio: quiet ? 'ignore' : ['ignore', 'inherit', 'inherit'],
    // No debconf questions: nothing answers them in CI, and apt would wait forever.
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0;
}

function fail(message) {
  console.error(`ensure-redis: ${message}`);
  process.exit(1);
}

if (findRedisServer()) process.exit(0);

if (process.platform !== 'linux' || !run(['sh', '-c', 'command -v apt-get'], true)) {
  fail(`${BINARY} was not found and this is not a Debian-like system; ${HINT}.`);
}

// Root runs apt-get itself. Anyone else goes through sudo, but only without a password
// (`-n`): a test run must never stop at a prompt. sudo drops the environment, so
// DEBIAN_FRONTEND is passed through `env`.
let prefix;
if (process.getuid?.() === 0) prefix = [];
else if (run(['sudo', '-n', 'true'], true)) {
  prefix = ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive'];
} else {
  fail(`${BINARY} was not found, and installing it needs root or password-less sudo; ${HINT}.`);
}

// The lock timeout waits for another apt (say, unattended-upgrades on a fresh VM) instead of
// failing at once. --no-install-recommends: the server is all the tests use.
const aptGet = [...prefix, 'apt-get', '-o', 'DPkg::Lock::Timeout=300'];
const install = [...aptGet, 'install', '-y', '--no-install-recommends', PACKAGE];
console.error(`ensure-redis: ${BINARY} not found; installing Debian's ${PACKAGE} package`);
// A fresh container has no package lists, so a first failure is usually cured by an update.
if (!run(install) && !(run([...aptGet, 'update']) && run(install))) {
  fail(`installing ${PACKAGE} with apt-get failed (see above); ${HINT}.`);
}
if (!findRedisServer()) fail(`${PACKAGE} is installed but ${BINARY} is not on PATH; ${HINT}.`);
console.error(`ensure-redis: installed ${findRedisServer()}`);
