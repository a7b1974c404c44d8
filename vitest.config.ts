import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests start local HTTP servers; keep them from competing for the 2 cores.
    fileParallelism: true,
    testTimeout: 10_000,
    // The fuzz test checks that memory stays flat, which needs a real garbage collection.
    execArgv: ['--expose-gc'],
  },
});
