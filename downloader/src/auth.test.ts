import { describe, expect, it } from 'vitest';
import { createApp } from './app.ts';
import { createKeyCheck } from './auth.ts';

describe('DOWNLOADER_KEY', () => {
  const app = createApp({ version: 't', startedAt: Date.now(), apiKey: 's3cret' });
  const open = createApp({ version: 't', startedAt: Date.now() });

  it.each([
    ['no credentials', {}, 401],
    ['a wrong bearer token', { authorization: 'Bearer nope' }, 401],
    ['the key without "Bearer"', { authorization: 's3cret' }, 401],
    ['a wrong X-API-Key', { 'x-api-key': 's3cre' }, 401],
    ['the right bearer token', { authorization: 'Bearer s3cret' }, 404],
    ['the right X-API-Key', { 'x-api-key': 's3cret' }, 404],
  ])('job routes with %s answer %i', async (_name, headers, status) => {
    const res = await app.request('/jobs/abc/status', { headers });
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error_type: string };
    expect(body.error_type).toBe(status === 401 ? 'unauthorized' : 'not_found');
  });

  it('keeps /health open', async () => {
    expect((await app.request('/health')).status).toBe(200);
  });

  it('asks nothing when no key is configured', async () => {
    expect((await open.request('/jobs/abc/status')).status).toBe(404);
  });

  it('compares keys of any length without throwing', () => {
    const check = createKeyCheck('k');
    expect(check('Bearer k', undefined)).toBe(true);
    expect(check(`Bearer ${'k'.repeat(10_000)}`, undefined)).toBe(false);
    expect(check(undefined, '')).toBe(false);
  });
});
