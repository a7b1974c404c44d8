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

if (process.argv.includes('--bench')) {
  // The benchmark is a Node program over the shared modules; it is never shipped.
  await build({
    ...common,
    entryPoints: ['bench/main.ts'],
    outfile: 'dist/bench.cjs',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
  });
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
]);
