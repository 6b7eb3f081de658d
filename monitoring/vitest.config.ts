import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'monitoring',
    globalSetup: ['../testkit/src/globalSetup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
