import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { projects: ['shared', 'downloader', 'exporter', 'exporter/load', 'monitoring', 'scripts', 'testkit'] },
});
