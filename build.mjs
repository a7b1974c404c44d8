// Bundles each side into one file so the installed resource needs no node_modules.
// The typecheck runs before this (see package.json "build"); esbuild only strips types.
import { build } from 'esbuild';

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
      resolveDir: process.cwd(),
    }));
  },
};

const common = {
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

if (process.argv.includes('--bench')) {
  await tool('bench/main.ts', 'dist-tools/bench.cjs');
  process.exit(0);
}

await Promise.all([
  build({
    ...common,
    entryPoints: ['server/index.ts'],
    outfile: 'dist/server.js',
    platform: 'node',
    target: 'node22',
    format: 'cjs',
  }),
  build({
    ...common,
    entryPoints: ['client/index.ts'],
    outfile: 'dist/client.js',
    platform: 'neutral',
    target: 'es2020',
    format: 'iife',
  }),
  tool('sandbox/main.ts', 'dist-tools/sandbox.cjs'),
]);
