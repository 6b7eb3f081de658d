import { request } from 'node:http';
import {
  type LoneDownloader,
  Origin,
  RedisServer,
  requireBinary,
  SystemUnderTest,
  startLoneDownloader,
  sumSamples,
  waitFor,
} from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const hasRedis = requireBinary('redis-server');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET from a chosen loopback source address: each address is a different client to the limiter. */
function get(url: string, from = '127.0.0.1', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress: from, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function statuses(urls: string[], from?: string): Promise<number[]> {
  const out: number[] = [];
  for (const u of urls) out.push((await get(u, from)).status);
  return out;
}

describe('rate limits in memory, as the original: 60 downloads a minute per client', () => {
  const origin = new Origin();
  const sut = new SystemUnderTest({ DOWNLOADER_ALLOW_PRIVATE: '1', RATELIMIT_ENABLED: '1' }, { POLL_INTERVAL_S: '0.3' });
  const download = () => `${sut.base}/${origin.base}/page`;

  beforeAll(async () => {
    await origin.start();
    origin.static('/page', 'text/plain', 'a page');
    await sut.start();
  });
  afterAll(async () => {
    await sut.stop();
    await origin.stop();
  });

  it('the 61st download is 429 rate_limit_exceeded with Retry-After and the limit headers; other classes and clients go on', async () => {
    const remaining: string[] = [];
    for (let i = 0; i < 60; i++) {
      const r = await get(download());
      expect(r.status).toBe(200);
      remaining.push(String(r.headers['x-ratelimit-remaining']));
    }
    expect(remaining).toEqual(Array.from({ length: 60 }, (_, i) => String(59 - i)));
    const before = Date.now() / 1000;
    const refused = await get(download());
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(refused.body)).toEqual({
      success: false,
      error: expect.stringMatching(/^Rate limit exceeded: 60\/minute for download requests\. Try again in \d+ s\.$/),
      error_type: 'rate_limit_exceeded',
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers['x-ratelimit-limit']).toBe('60');
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    const reset = Number(refused.headers['x-ratelimit-reset']);
    expect(reset).toBeGreaterThan(before + 50);
    expect(reset).toBeLessThanOrEqual(Math.ceil(before) + 61);
    expect(refused.headers['ratelimit-policy']).toBe('"download";q=60;w=60');
    expect(refused.headers.ratelimit).toBe(`"download";r=0;t=${retryAfter}`);

    // /health has its own budget (200/minute), and another client address its own downloads.
    const health = await get(`${sut.base}/health`);
    expect(health.status).toBe(200);
    expect(health.headers['ratelimit-policy']).toBe('"status";q=200;w=60');
    expect(health.headers['x-ratelimit-remaining']).toBe('199');
    expect((await get(download(), '127.0.0.2')).status).toBe(200);

    // The refusal is the caller's: counted as a client error, never the service's.
    const m = await waitFor('62 requests counted', async () => {
      const x = await sut.metrics();
      return sumSamples(x, 'downloader_requests_total', { endpoint: '/{url}' }) >= 62 ? x : undefined;
    });
    expect(sumSamples(m, 'downloader_errors_total', { endpoint: '/{url}', status: '429', cause: 'client' })).toBe(1);
    expect(sumSamples(m, 'downloader_requests_total', { cause: 'service' })).toBe(0);
  });
});

describe('rate limits with an API key, and without the headers (RATELIMIT_HEADERS_ENABLED=0)', () => {
  const sut = new SystemUnderTest({
    DOWNLOADER_KEY: 'k3y',
    RATELIMIT_ENABLED: '1',
    RATELIMIT_STATUS_LIMIT: '2/minute',
    RATELIMIT_DEFAULT_LIMIT: '3 per minute',
    RATELIMIT_HEADERS_ENABLED: '0',
  });
  const job = () => `${sut.base}/jobs/00000000-0000-4000-8000-000000000000/status`;
  const statusOf = async (from: string, headers: Record<string, string> = {}) => (await get(job(), from, headers)).status;
  beforeAll(() => sut.start());
  afterAll(() => sut.stop());

  it('answers without X-RateLimit-* or RateLimit, and a 429 still says Retry-After', async () => {
    const replies = [await get(`${sut.base}/health`), await get(`${sut.base}/health`), await get(`${sut.base}/health`)];
    expect(replies.map((r) => r.status)).toEqual([200, 200, 429]);
    for (const r of replies) {
      for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'ratelimit', 'ratelimit-policy'])
        expect(r.headers[h]).toBeUndefined();
    }
    expect(Number(replies[2]?.headers['retry-after'])).toBeGreaterThan(50);
  });

  it('guessing keys spends the address budget; the right key has a budget of its own', async () => {
    const wrong = { authorization: 'Bearer guess' };
    const right = { 'x-api-key': 'k3y' };
    const guesses = [];
    for (let i = 0; i < 4; i++) guesses.push(await statusOf('127.0.0.9', wrong));
    expect(guesses).toEqual([401, 401, 401, 429]);
    const keyed = [];
    for (let i = 0; i < 4; i++) keyed.push(await statusOf('127.0.0.9', right));
    expect(keyed).toEqual([404, 404, 404, 429]);
    // The key's budget follows the key, not the address: spent above, refused from another address too.
    expect(await statusOf('127.0.0.10', right)).toBe(429);
    expect(await statusOf('127.0.0.10')).toBe(401);
  });
});

describe.skipIf(!hasRedis)('rate limits shared through Redis by two downloaders', () => {
  const origin = new Origin();
  const redis = new RedisServer();
  const downloaders: LoneDownloader[] = [];

  beforeAll(async () => {
    await origin.start();
    origin.static('/page', 'text/plain', 'a page');
    await redis.start();
    for (let i = 0; i < 2; i++) {
      downloaders.push(
        await startLoneDownloader({
          DOWNLOADER_ALLOW_PRIVATE: '1',
          REDIS_URL: redis.url,
          RATELIMIT_ENABLED: '1',
          RATELIMIT_DOWNLOAD_LIMIT: '10/minute',
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(downloaders.map((d) => d.proc.stop()));
    await redis.stop();
    await origin.stop();
  });

  it('one budget across replicas: 6 through one and 4 through the other, then both refuse', async () => {
    const [a, b] = downloaders as [LoneDownloader, LoneDownloader];
    const url = (d: LoneDownloader) => `${d.base}/${origin.base}/page`;
    expect(await statuses(Array(6).fill(url(a)))).toEqual(Array(6).fill(200));
    expect(await statuses(Array(4).fill(url(b)))).toEqual(Array(4).fill(200));
    expect(await statuses([url(a), url(b)])).toEqual([429, 429]);
    // Another client, through both replicas: counted in the same shared window.
    expect(await statuses(Array(5).fill(url(a)), '127.0.0.5')).toEqual(Array(5).fill(200));
    const last = await get(url(b), '127.0.0.5');
    expect(last.headers['x-ratelimit-remaining']).toBe('4');
  });

  it('Redis killed: each replica still limits from memory, and downloads go on', async () => {
    const [a] = downloaders as [LoneDownloader];
    await redis.kill();
    const url = `${a.base}/${origin.base}/page`;
    const got = await statuses(Array(11).fill(url), '127.0.0.7');
    expect(got).toEqual([...Array(10).fill(200), 429]);
  });
});
