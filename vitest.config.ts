import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { projects: ['shared', 'downloader', 'exporter', 'monitoring', 'scripts'] },
});
