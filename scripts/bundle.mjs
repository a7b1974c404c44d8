// The esbuild half of the build, importable: build.mjs runs it after the typecheck, and the
// end-to-end tests' global setup (test/e2e/global-setup.ts) runs it before every run, so a
// test never loads a stale bundle. esbuild only strips types; it checks none.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The project root: paths below are relative to it, whatever the caller's directory. */
export const root = fileURLToPath(new URL('..', import.meta.url));

// zod re-exports every translation of its messages (about 360 KB); ours are English and
// written by us, so the bundle keeps only zod's English locale.
const englishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: 'zod-locales', namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: root,
    }));
  },
};

const common = {
  absWorkingDir: root,
  plugins: [englishOnly],
  bundle: true,
  legalComments: 'none',
  logLevel: 'warning',
  sourcemap: false,
  minify: false,
};

// Developer tools (benchmark, sandbox) are Node programs over the shared modules and the
// emulator. They go to dist-tools/, never into dist/, which is what a server installs.
const tool = (entry, outfile) =>
  build({
    ...common,
    entryPoints: [entry],
    outfile,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
  });

const targets = {
  server: () =>
    build({
      ...common,
      entryPoints: ['server/index.ts'],
      outfile: 'dist/server.js',
      platform: 'node',
      target: 'node22',
      format: 'cjs',
    }),
  client: () =>
    build({
      ...common,
      entryPoints: ['client/index.ts'],
      outfile: 'dist/client.js',
      platform: 'neutral',
      target: 'es2020',
      format: 'iife',
    }),
  sandbox: () => tool('sandbox/main.ts', 'dist-tools/sandbox.cjs'),
  bench: () => tool('bench/main.ts', 'dist-tools/bench.cjs'),
};

/**
 * Bundles the named outputs in parallel; rejects if any fails (esbuild has printed why).
 * @param {Array<keyof typeof targets>} [which] default: dist/ (server, client) and the sandbox
 */
export async function bundle(which = ['server', 'client', 'sandbox']) {
  await Promise.all(which.map((name) => targets[name]()));
}
