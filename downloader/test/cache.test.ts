import { ARTICLE_HTML, Origin, RedisServer, requireBinary, SystemUnderTest, sumSamples, waitFor } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const hasRedis = requireBinary('redis-server');
const BACKENDS = [
  { name: 'memory', redis: false },
  { name: 'redis', redis: true },
] as const;

describe.each(BACKENDS)('content cache: $name', ({ name, redis }) => {
  const origin = new Origin();
  const server = new RedisServer();
  let sut: SystemUnderTest;
  const get = (path: string, accept = 'text/plain') => fetch(`${sut.base}/${origin.base}${path}`, { headers: { accept } });

  beforeAll(async () => {
    if (redis && !hasRedis) return;
    await origin.start();
    origin.static('/article', 'text/html; charset=utf-8', ARTICLE_HTML).static('/gone', 'text/plain', 'gone', 410);
    const env: Record<string, string> = { DOWNLOADER_ALLOW_PRIVATE: '1' };
    if (redis) env.REDIS_URL = (await server.start()).url;
    sut = await new SystemUnderTest(env, { POLL_INTERVAL_S: '0.3' }).start();
  });
  afterAll(async () => {
    await sut?.stop();
    await server.stop();
    await origin.stop();
  });

  it.skipIf(redis && !hasRedis)('misses, then hits without touching the origin, per format', async () => {
    // A lookup before the cache's Redis client has connected is an `error`, not a miss (it never
    // queues): this test counts misses and hits, so it starts once the downloader says Redis is up.
    if (redis)
      await waitFor('the cache connected to Redis', async () => {
        const stats = (await (await fetch(`http://127.0.0.1:${sut.adminPort}/internal/stats`)).json()) as {
          redis: { up: boolean };
        };
        return stats.redis.up || undefined;
      });
    const first = await get('/article');
    expect(first.headers.get('x-cache')).toBe('MISS');
    const firstText = await first.text();
    const second = await get('/article');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(await second.text()).toBe(firstText);
    expect(second.headers.get('x-original-content-type')).toBe('text/html; charset=utf-8');
    expect(origin.hits.get('/article')).toBe(1);
    const md = await get('/article', 'text/markdown');
    expect(md.headers.get('x-cache')).toBe('MISS'); // another format, another key
    expect(origin.hits.get('/article')).toBe(2);
    // The three lookups' events may arrive in different flushes: wait for all of them, then count exactly.
    const m = await waitFor('cache events', async () => {
      const s = await sut.metrics();
      const seen = (result: string) => sumSamples(s, 'downloader_cache_lookups_total', { result });
      return seen('hit') >= 1 && seen('miss') >= 2 ? s : undefined;
    });
    expect(sumSamples(m, 'downloader_cache_lookups_total', { result: 'miss' })).toBe(2);
    expect(sumSamples(m, 'downloader_cache_lookups_total', { result: 'hit' })).toBe(1);
    const stats = (await (await fetch(`http://127.0.0.1:${sut.adminPort}/internal/stats`)).json()) as {
      cache: { backend: string; hits: number };
    };
    expect(stats.cache).toMatchObject({ backend: name, hits: 1 });
  });

  it.skipIf(redis && !hasRedis)('never caches an error', async () => {
    for (let i = 0; i < 2; i++) expect((await get('/gone')).status).toBe(410); // the target's own error, passed through
    expect(origin.hits.get('/gone')).toBe(2);
  });

  // Registered for the Redis backend only: a memory cache cannot die on its own.
  if (redis) {
    it.skipIf(!hasRedis)('keeps serving when Redis dies: misses and cache errors, no failed download', async () => {
      await server.kill();
      const statuses = await Promise.all(Array.from({ length: 20 }, () => get('/article').then((r) => r.status)));
      expect(statuses.every((s) => s === 200)).toBe(true);
      await waitFor('cache errors counted', async () =>
        sumSamples(await sut.metrics(), 'downloader_cache_lookups_total', { result: 'error' }) >= 20 ? true : undefined,
      );
      await waitFor('Redis reported down', async () =>
        sumSamples(await sut.metrics(), 'downloader_component_up', { component: 'redis' }) === 0 ? true : undefined,
      );
    });
  }
});
