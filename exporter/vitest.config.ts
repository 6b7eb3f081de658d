import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'exporter',
    globalSetup: ['../testkit/src/globalSetup.ts'],
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
