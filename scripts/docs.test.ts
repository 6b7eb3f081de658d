import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@dl/testkit';
import { describe, expect, it } from 'vitest';
import { DOC_FILES, fillBlocks, generatedDocs } from './gen-docs.ts';

const read = (p: string) => readFileSync(join(repoRoot, p), 'utf8');

describe('docs', () => {
  it.each(DOC_FILES)('%s is what npm run gen:docs writes (its tables mirror the code)', async (file) => {
    const docs = await generatedDocs();
    expect(read(file), `${file} is stale: run npm run gen:docs`).toBe(docs[file]);
  });

  it('every variable the processes read and every error type appear in the docs', async () => {
    const docs = await generatedDocs();
    const config = docs['docs/configuration.md'] ?? '';
    for (const name of ['EVENTS_FLUSH_MS', 'EVENTS_TRANSPORT', 'DOWNLOADER_KEY', 'METRICS_TOKEN', 'HEALTH_EVENT_LAG_WARN_S'])
      expect(config).toContain(`| \`${name}\` |`);
    expect(docs['docs/api.md']).toContain('| 504 | `upstream_timeout` | target |');
    expect(docs['docs/metrics.md']).toContain('| `downloader_redis_up` | gauge |');
  });

  it('fills only known blocks and keeps the prose around them', () => {
    const page = 'before\n<!-- generated:x -->\nold\n<!-- /generated -->\nafter\n';
    expect(fillBlocks(page, { x: 'new' })).toBe('before\n<!-- generated:x -->\nnew\n<!-- /generated -->\nafter\n');
    expect(() => fillBlocks(page, {})).toThrow(/unknown generated block x/);
  });

  it('the README links every docs page, and every page it links exists', () => {
    const readme = read('README.md');
    for (const page of [
      'api',
      'configuration',
      'metrics',
      'event-contract',
      'health-score',
      'security',
      'benchmarks',
      'architecture',
    ])
      expect(readme).toContain(`](docs/${page}.md)`);
    for (const [, target] of readme.matchAll(/\]\(((?:docs|monitoring)\/[^)#]+)/g))
      expect(() => read(target as string)).not.toThrow();
  });
});
