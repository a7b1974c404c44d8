// Bundles each side into one file so the installed resource needs no node_modules.
// The typecheck runs before this (see package.json "build"); esbuild only strips types.
import { build } from 'esbuild';

const common = {
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
