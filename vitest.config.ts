import { readdirSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import type { Vitest } from 'vitest/node';

// Two projects: `vitest run --project unit` (everything but test/e2e: unit tests, the
// emulator's and the CAD's own tests) and `--project e2e`, whose global setup bundles dist/
// before the tests load it. A plain `vitest run` runs both.
const root = import.meta.dirname;
let vitest: Vitest | undefined;
// Projects do not inherit the root's plugins, so each project carries this one.
const plugins = [
  {
    name: 'sonoran-911-watch',
    configureVitest: (context: { vitest: Vitest }) => {
      vitest = context.vitest;
    },
  },
];

/** The end-to-end test files, and the other test files that import `file`. */
function testsAffectedBy(file: string): string[] {
  const e2e = readdirSync(resolve(root, 'test/e2e'), { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => resolve(root, 'test/e2e', name));
  const importers = new Set<string>();
  for (const project of vitest?.projects ?? []) {
    const seen = new Set<string>();
    const queue = Object.values(project.vite.environments).flatMap((env) => [
      ...(env.moduleGraph.getModulesByFile(file) ?? []),
    ]);
    for (let mod = queue.pop(); mod; mod = queue.pop()) {
      if (!mod.file || seen.has(mod.file)) continue;
      seen.add(mod.file);
      if (project.matchesTestGlob(mod.file)) importers.add(mod.file);
      else queue.push(...mod.importers);
    }
  }
  vitest?.watcher.invalidates.add(file);
  return [...new Set([...e2e, ...importers])];
}

export default defineConfig({
  test: {
    // End-to-end tests start local HTTP servers; keep them from competing for the 2 cores.
    fileParallelism: true,
    testTimeout: 10_000,
    // The fuzz test checks that memory stays flat, which needs a real garbage collection.
    execArgv: ['--expose-gc'],
    projects: [
      {
        extends: true,
        plugins,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/e2e/**'],
        },
      },
      {
        extends: true,
        plugins,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
        },
      },
    ],
    // Watch mode: the end-to-end tests read the bundles, not the sources, so the module
    // graph does not tie them to server/, client/ or shared/; an edit there reruns them
    // (after the global setup rebuilds) along with the tests that import the file.
    watchTriggerPatterns: [
      {
        pattern: /\.ts$/,
        testsToRun: (file) =>
          relative(root, file).match(/^(?:server|client|shared)\//)
            ? testsAffectedBy(file)
            : undefined,
      },
    ],
  },
});
