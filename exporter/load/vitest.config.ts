import { defineConfig } from 'vitest/config';

// Load tests measure latency and memory, so they run after the other suites, one file at a time,
// on a machine doing nothing else (`npm test` runs this project last).
export default defineConfig({
  test: {
    name: 'load',
    globalSetup: ['../../testkit/src/globalSetup.ts'],
    include: ['**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
