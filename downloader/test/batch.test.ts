import type { ServerResponse } from 'node:http';
import {
  ARTICLE_HTML,
  getJson,
  type LoneDownloader,
  Origin,
  RedisServer,
  requireBinary,
  SystemUnderTest,
  startLoneDownloader,
  sumSamples,
  waitFor,
} from '@dl/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const hasRedis = requireBinary('redis-server');

interface Status {
  job_id: string;
  status: string;
  progress: { total: number; completed: number; failed: number; percent: number };
  results?: { url: string; format: string; success: boolean; content?: unknown; error_type?: string; status_code?: number }[];
}
interface Stats {
  pools: { batch: { limit: number; active: number; queued: number } };
}

describe('batch jobs (in-memory store) with a batch pool of 2', () => {
  const origin = new Origin();
  const held: ServerResponse[] = [];
  const sut = new SystemUnderTest(
    { DOWNLOADER_ALLOW_PRIVATE: '1', BATCH_CONCURRENCY: '2' },
    { POLL_INTERVAL_S: '0.3', HEALTH_WINDOW: '60' },
  );
  const post = (body: unknown) =>
    fetch(`${sut.base}/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const status = (id: string) => getJson<Status>(`${sut.base}/jobs/${id}/status`);
  const stats = () => getJson<Stats>(`http://127.0.0.1:${sut.adminPort}/internal/stats`);
  const release = () => {
    for (const r of held.splice(0)) r.writeHead(200, { 'content-type': 'text/plain' }).end('finally');
  };

  beforeAll(async () => {
    await origin.start();
    origin
      .static('/article', 'text/html; charset=utf-8', ARTICLE_HTML)
      .static('/plain', 'text/plain', 'plain words')
      .route('/hold', (_req, res) => void held.push(res));
    await sut.start();
  });
  afterAll(async () => {
    release();
    await sut.stop();
    await origin.stop();
  });

  it('names failures in results as GET /{url} names them (a timed-out URL is upstream_timeout)', async () => {
    const res = await post({
      urls: [{ url: `${origin.base}/hold` }, { url: 'http://unresolvable.invalid/' }],
      timeout_per_url: 1,
    });
    const { job_id } = (await res.json()) as { job_id: string };
    const done = await waitFor('job finished', async () => {
      const s = await getJson<Status>(`${sut.base}/jobs/${job_id}/results`);
      return s.status === 'failed' ? s : undefined;
    });
    release();
    expect(done.results?.map((r) => r.error_type)).toEqual(['upstream_timeout', 'upstream_error']);
    const direct = await fetch(`${sut.base}/http://unresolvable.invalid/`);
    expect(((await direct.json()) as { error_type: string }).error_type).toBe('upstream_error');
  });

  it('runs a batch end to end: 202, progress, results in each format, job events counted', async () => {
    const res = await post({
      urls: [
        { url: `${origin.base}/article` },
        { url: `${origin.base}/article`, format: 'markdown' },
        { url: `${origin.base}/plain`, format: 'json' },
        { url: `${origin.base}/missing` },
      ],
      default_format: 'text',
    });
    expect(res.status).toBe(202);
    const created = (await res.json()) as { job_id: string; status_url: string; results_url: string; total_urls: number };
    expect(created).toMatchObject({ total_urls: 4, status_url: `/jobs/${created.job_id}/status` });
    const done = await waitFor('job finished', async () => {
      const s = await status(created.job_id);
      return s.status === 'completed' ? s : undefined;
    });
    expect(done.progress).toEqual({ total: 4, completed: 3, failed: 1, percent: 100 });
    const results = await getJson<Status>(`${sut.base}${created.results_url}`);
    const [text, md, json, missing] = results.results ?? [];
    expect(text).toMatchObject({ success: true, format: 'text' });
    expect(String(text?.content)).toContain('412 birds');
    expect(String(md?.content)).toContain('**412 birds**');
    expect(Buffer.from((json?.content as { content: string } | undefined)?.content ?? '', 'base64').toString()).toBe(
      'plain words',
    );
    expect(missing).toMatchObject({ success: false, status_code: 404, error_type: 'http_error', error: 'HTTP 404: Not Found' });
    await waitFor('job events counted', async () => {
      const m = await sut.metrics();
      return sumSamples(m, 'downloader_batch_jobs_total', { status: 'created' }) >= 1 &&
        sumSamples(m, 'downloader_batch_jobs_total', { status: 'completed' }) >= 1
        ? true
        : undefined;
    });
  });

  it.each([
    ['not JSON', 'urls=1', 'invalid_request'],
    ['no urls', { urls: [] }, 'invalid_request'],
    ['urls not an array', { urls: 'http://x' }, 'invalid_request'],
    ['too many urls', { urls: Array.from({ length: 101 }, () => ({ url: 'http://example.com/' })) }, 'invalid_request'],
    ['unknown format', { urls: [{ url: 'http://example.com/', format: 'docx' }] }, 'invalid_request'],
    ['unknown field', { urls: [{ url: 'http://example.com/' }], priority: 1 }, 'invalid_request'],
    ['ftp url', { urls: [{ url: 'ftp://example.com/file' }] }, 'invalid_url'],
    ['zero concurrency', { urls: [{ url: 'http://example.com/' }], concurrency_limit: 0 }, 'invalid_request'],
  ])('refuses %s with 400 and a JSON error', async (_name, body, type) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ success: false, error_type: type });
  });

  it.each([
    ['GET', '/jobs/no-such-job/status'],
    ['GET', '/jobs/no-such-job/results'],
    ['DELETE', '/jobs/no-such-job'],
  ])('%s %s of an unknown job is a 404 JSON error', async (method, path) => {
    const res = await fetch(`${sut.base}${path}`, { method });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ success: false, error_type: 'not_found' });
  });

  it('never runs more than the pool allows; a full pool shows as saturation in the health score, and recovers', async () => {
    const res = await post({
      urls: Array.from({ length: 6 }, (_, i) => ({ url: `${origin.base}/hold?n=${i}` })),
      concurrency_limit: 6,
      timeout_per_url: 60,
    });
    const { job_id } = (await res.json()) as { job_id: string };
    const busy = await waitFor('pool full', async () => {
      const s = await stats();
      return s.pools.batch.active === 2 ? s : undefined;
    });
    expect(busy.pools.batch).toEqual({ limit: 2, active: 2, queued: 4 });
    expect(held.length).toBe(2); // the origin sees only two requests at a time
    const health = await waitFor('saturation penalty', async () => {
      const h = await sut.json<{ status: string; factors: Record<string, { status: string; penalty: number; value: number }> }>(
        '/metrics/health-score',
      );
      return h.factors.saturation?.status === 'critical' ? h : undefined;
    });
    expect(health.factors.saturation).toMatchObject({ value: 100, penalty: 15 });
    // /metrics may answer from a render up to SCRAPE_REUSE_MS old: wait for one made after the pool filled.
    await waitFor('utilization 100 on /metrics', async () =>
      sumSamples(await sut.metrics(), 'downloader_concurrency_utilization_percent', { pool: 'batch' }) === 100 ? true : undefined,
    );
    // Release everything as it arrives until the job is done; the pool drains and the penalty goes.
    await waitFor('job done', async () => {
      release();
      return (await status(job_id)).status === 'completed' ? true : undefined;
    });
    expect((await stats()).pools.batch).toEqual({ limit: 2, active: 0, queued: 0 });
    await waitFor('saturation recovered', async () => {
      const h = await sut.json<{ factors: Record<string, { status: string }> }>('/metrics/health-score');
      return h.factors.saturation?.status === 'ok' ? true : undefined;
    });
  });

  it('cancels a running job: in-flight fetches aborted, queued ones skipped, slots freed', async () => {
    const res = await post({
      urls: Array.from({ length: 5 }, (_, i) => ({ url: `${origin.base}/hold?c=${i}` })),
      concurrency_limit: 5,
      timeout_per_url: 60,
    });
    const { job_id } = (await res.json()) as { job_id: string };
    await waitFor('two in flight', async () => ((await stats()).pools.batch.active === 2 ? true : undefined));
    const del = await fetch(`${sut.base}/jobs/${job_id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(((await del.json()) as Status).status).toBe('cancelled');
    await waitFor('slots freed', async () => ((await stats()).pools.batch.active === 0 ? true : undefined));
    const s = await status(job_id);
    expect(s.status).toBe('cancelled');
    expect(s.progress.completed).toBe(0);
    held.splice(0);
    await waitFor('cancel counted', async () =>
      sumSamples(await sut.metrics(), 'downloader_batch_jobs_total', { status: 'cancelled' }) === 1 ? true : undefined,
    );
  });
});

describe.skipIf(!hasRedis)('batch jobs in Redis', () => {
  const origin = new Origin();
  const redis = new RedisServer();
  let sut: SystemUnderTest;
  const post = (body: unknown) =>
    fetch(`${sut.base}/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    await origin.start();
    origin.static('/plain', 'text/plain', 'stored in redis');
    await redis.start();
    sut = await new SystemUnderTest({ DOWNLOADER_ALLOW_PRIVATE: '1', REDIS_URL: redis.url }).start();
  });
  afterAll(async () => {
    await sut?.stop();
    await redis.stop();
    await origin.stop();
  });

  it('runs end to end with the job kept in Redis under a TTL, each URL in a field of its own', async () => {
    const res = await post({ urls: [{ url: `${origin.base}/plain` }, { url: `${origin.base}/plain`, format: 'json' }] });
    expect(res.status).toBe(202);
    const { job_id } = (await res.json()) as { job_id: string };
    const done = await waitFor('job finished', async () => {
      const s = await getJson<Status>(`${sut.base}/jobs/${job_id}/results`);
      return s.status === 'completed' ? s : undefined;
    });
    expect(done.results?.[0]).toMatchObject({ success: true, content: 'stored in redis' });
    const client = new Redis(redis.url);
    const stored = await client.hgetall(`dl:job:${job_id}`);
    const ttl = await client.pttl(`dl:job:${job_id}`);
    client.disconnect();
    expect(Object.keys(stored).sort()).toEqual([
      'completed',
      'completed_at',
      'failed',
      'fixed',
      'r:0',
      'r:1',
      'started_at',
      'status',
    ]);
    expect(stored).toMatchObject({ status: 'completed', completed: '2', failed: '0' });
    expect(JSON.parse(stored.fixed ?? '')).toMatchObject({ job_id, total_urls: 2 });
    expect(JSON.parse(stored['r:0'] ?? '')).toMatchObject({ success: true, content: 'stored in redis' });
    expect(ttl).toBeGreaterThan(23 * 3600_000);
  });

  it('answers 503 jobs_unavailable while Redis is down; downloads go on', async () => {
    await redis.kill();
    const res = await post({ urls: [{ url: `${origin.base}/plain` }] });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ success: false, error_type: 'jobs_unavailable' });
    const status = await fetch(`${sut.base}/jobs/anything/status`);
    expect(status.status).toBe(503);
    const download = await fetch(`${sut.base}/${origin.base}/plain`);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('stored in redis');
  });
});

describe('the batch queue is bounded', () => {
  const origin = new Origin();
  const held: ServerResponse[] = [];
  const sut = new SystemUnderTest({ DOWNLOADER_ALLOW_PRIVATE: '1', BATCH_CONCURRENCY: '1', BATCH_QUEUE_MAX: '1' });
  beforeAll(async () => {
    await origin.start();
    origin.route('/hold', (_req, res) => void held.push(res));
    await sut.start();
  });
  afterAll(async () => {
    for (const r of held.splice(0)) r.end('late');
    await sut.stop();
    await origin.stop();
  });
  const post = (body: unknown) =>
    fetch(`${sut.base}/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('refuses a job at submit with 503 queue_full and Retry-After when the pool cannot queue its fetches', async () => {
    const first = await post({
      urls: [{ url: `${origin.base}/hold?a` }, { url: `${origin.base}/hold?b` }],
      concurrency_limit: 2,
    });
    expect(first.status).toBe(202);
    await waitFor('one fetch running, one queued', async () => {
      const s = await getJson<Stats>(`http://127.0.0.1:${sut.adminPort}/internal/stats`);
      return (s.pools.batch.active === 1 && s.pools.batch.queued === 1) || undefined;
    });
    const refused = await post({ urls: [{ url: `${origin.base}/hold?c` }] });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ success: false, error_type: 'queue_full' });
  });
});

describe.skipIf(!hasRedis)('jobs across two replicas sharing Redis', () => {
  const origin = new Origin();
  const redis = new RedisServer();
  const held: ServerResponse[] = [];
  let closed = 0;
  let a: LoneDownloader;
  let b: LoneDownloader;

  beforeAll(async () => {
    await origin.start();
    origin.static('/plain', 'text/plain', 'shared').route('/hold', (req, res) => {
      held.push(res);
      req.socket.once('close', () => closed++);
    });
    await redis.start();
    const env = { DOWNLOADER_ALLOW_PRIVATE: '1', REDIS_URL: redis.url };
    [a, b] = await Promise.all([startLoneDownloader(env), startLoneDownloader(env)]);
  });
  afterAll(async () => {
    for (const r of held.splice(0)) r.destroy();
    await Promise.all([a?.proc.stop(), b?.proc.stop()]);
    await redis.stop();
    await origin.stop();
  });

  it('a job started on one is read, cancelled and its results fetched through the other, which stops it on the first', async () => {
    const res = await fetch(`${a.base}/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        urls: [
          { url: `${origin.base}/plain` },
          { url: `${origin.base}/plain`, format: 'json' },
          ...Array.from({ length: 3 }, (_, i) => ({ url: `${origin.base}/hold?i=${i}` })),
        ],
        concurrency_limit: 5,
        timeout_per_url: 120,
      }),
    });
    expect(res.status).toBe(202);
    const { job_id } = (await res.json()) as { job_id: string };
    // Read through b while a runs it: two done, three held at the origin.
    const running = await waitFor('two done, three in flight', async () => {
      const s = await getJson<Status>(`${b.base}/jobs/${job_id}/status`);
      return s.progress.completed === 2 && held.length === 3 ? s : undefined;
    });
    expect(running).toMatchObject({ status: 'running', progress: { total: 5, completed: 2, failed: 0, percent: 40 } });
    expect((await getJson<Stats>(`${a.adminBase}/internal/stats`)).pools.batch.active).toBe(3);

    const del = await fetch(`${b.base}/jobs/${job_id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(((await del.json()) as Status).status).toBe('cancelled');
    // a hears of it and aborts its three fetches: the origin sees them go, a's pool empties.
    await waitFor('a stopped the job', async () =>
      closed === 3 && (await getJson<Stats>(`${a.adminBase}/internal/stats`)).pools.batch.active === 0 ? true : undefined,
    );
    for (const d of [a, b]) {
      const results = await getJson<Status>(`${d.base}/jobs/${job_id}/results`);
      expect(results.status).toBe('cancelled');
      expect(results.progress).toEqual({ total: 5, completed: 2, failed: 0, percent: 40 });
      expect(results.results?.map((r) => r.content)).toEqual([
        'shared',
        expect.objectContaining({ content: Buffer.from('shared').toString('base64') }),
      ]);
    }
    // A second cancel, through either, changes nothing.
    const again = await fetch(`${a.base}/jobs/${job_id}`, { method: 'DELETE' });
    expect(((await again.json()) as Status).status).toBe('cancelled');
  });
});
