import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'monitoring',
    globalSetup: ['../testkit/src/globalSetup.ts'],
    include: ['test/**/*.test.ts'],
    // The live proof starts Prometheus and Alertmanager; promtool's own tests run beside nothing heavy.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
