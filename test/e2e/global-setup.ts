/**
 * Global setup of the e2e project (vitest.config.ts): bundles dist/ and the sandbox CLI
 * before the end-to-end tests load them, and again before each watch-mode rerun, so a test
 * never passes against a stale bundle. Only esbuild runs (a fraction of a second); the
 * typecheck stays in `npm run build`. With SONORAN911_DIST pointing at other bundles, those
 * are what the tests load, and dist/ is left alone.
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundle, root } from '../../scripts/bundle.mjs';

type Target = NonNullable<Parameters<typeof bundle>[0]>[number];
const outputs: Record<Target, string> = {
  server: 'dist/server.js',
  client: 'dist/client.js',
  sandbox: 'dist-tools/sandbox.cjs',
  bench: 'dist-tools/bench.cjs',
};

export default async function setup(project: TestProject) {
  const own = resolve(root, 'dist');
  const other = process.env.SONORAN911_DIST;
  const targets: Target[] =
    other && resolve(other) !== own ? ['sandbox'] : ['server', 'client', 'sandbox'];
  if (!targets.includes('server'))
    console.log(
      `e2e: testing the bundles in ${resolve(other!)} (SONORAN911_DIST); dist/ left alone`,
    );

  const run = async () => {
    const start = performance.now();
    await bundle(targets);
    const built = targets.map((t) => outputs[t]).join(', ');
    console.log(`e2e: bundled ${built} in ${Math.round(performance.now() - start)} ms`);
  };

  try {
    await run();
  } catch (error) {
    throw new Error('e2e: the bundle build failed (esbuild says why above); no test ran', {
      cause: error,
    });
  }

  // Watch mode: rebuild before a rerun that includes end-to-end tests. A failed build
  // deletes its outputs, so the tests fail on the missing bundle instead of passing on the
  // old one.
  project.onTestsRerun(async (specs) => {
    if (!specs.some((spec) => spec.project.name === project.name)) return;
    try {
      await run();
    } catch {
      for (const t of targets) rmSync(resolve(root, outputs[t]), { force: true });
      console.error('e2e: the bundle build failed (esbuild says why above); bundles removed');
    }
  });
}
