import { RedisServer, requireBinary, waitFor } from '@dl/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, UrlResult } from '../src/jobs/job.ts';
import { type JobStore, MemoryJobStore, RedisJobStore } from '../src/jobs/jobStore.ts';

const hasRedis = requireBinary('redis-server');
const redis = new RedisServer();
const stores: Record<string, () => JobStore> = {
  memory: () => new MemoryJobStore(60_000),
  ...(hasRedis ? { redis: () => new RedisJobStore(redis.url, 60_000) } : {}),
};

beforeAll(async () => {
  if (hasRedis) await redis.start();
});
afterAll(() => redis.stop());

let n = 0;
const newJob = (): Job => ({
  job_id: `job-${++n}`,
  status: 'pending',
  created_at: '2026-11-30T00:00:00.000Z',
  total_urls: 3,
  completed_urls: 0,
  failed_urls: 0,
  results: [],
  request_id: 'req-1',
});
const ok = (url: string): UrlResult => ({ url, format: 'text', success: true, status_code: 200, content: url });
const bad = (url: string): UrlResult => ({ url, format: 'text', success: false, error: 'HTTP 500', error_type: 'http_error' });

describe.each(Object.keys(stores))('the %s job store', (kind) => {
  let store: JobStore;
  beforeAll(async () => {
    store = (stores[kind] as () => JobStore)();
    // Redis: wait for the connection (commands fail fast while it is not there).
    for (
      let i = 0;
      i < 100 &&
      (await store.get('x').then(
        () => false,
        () => true,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    // And for its subscription to cancels, which is made once connected.
    if (kind === 'redis') {
      const probe = new Redis(redis.url);
      await waitFor('cancel subscription', async () => {
        const [, subscribers] = (await probe.pubsub('NUMSUB', 'dl:jobs:cancelled')) as [string, number];
        return subscribers > 0 || undefined;
      });
      probe.disconnect();
    }
  });
  afterAll(() => store.close());

  it('keeps each result on its own, in URL order, with counters', async () => {
    const job = newJob();
    await store.create(job);
    await store.start(job.job_id, '2026-11-30T00:00:01.000Z');
    expect(await store.addResult(job.job_id, 2, ok('c'))).toBe(true);
    expect(await store.addResult(job.job_id, 0, ok('a'))).toBe(true);
    expect(await store.addResult(job.job_id, 1, bad('b'))).toBe(true);
    expect(await store.finish(job.job_id, 'completed', '2026-11-30T00:00:02.000Z')).toBe(true);
    expect(await store.get(job.job_id)).toEqual({
      ...job,
      status: 'completed',
      started_at: '2026-11-30T00:00:01.000Z',
      completed_at: '2026-11-30T00:00:02.000Z',
      completed_urls: 2,
      failed_urls: 1,
      results: [ok('a'), bad('b'), ok('c')],
    });
  });

  it('a cancel is final: no result, finish or second cancel changes it, and listeners hear it once', async () => {
    const heard: string[] = [];
    store.onCancel((id) => heard.push(id));
    const job = newJob();
    await store.create(job);
    await store.addResult(job.job_id, 0, ok('a'));
    const first = await store.cancel(job.job_id, '2026-11-30T00:00:03.000Z');
    expect(first?.changed).toBe(true);
    expect(first?.job).toMatchObject({ status: 'cancelled', completed_urls: 1, completed_at: '2026-11-30T00:00:03.000Z' });
    expect(await store.addResult(job.job_id, 1, ok('b'))).toBe(false);
    expect(await store.finish(job.job_id, 'completed', '2026-11-30T00:00:04.000Z')).toBe(false);
    expect((await store.cancel(job.job_id, '2026-11-30T00:00:05.000Z'))?.changed).toBe(false);
    const after = await store.get(job.job_id);
    expect(after).toMatchObject({ status: 'cancelled', completed_urls: 1, completed_at: '2026-11-30T00:00:03.000Z' });
    expect(after?.results).toEqual([ok('a')]);
    for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(heard).toEqual([job.job_id]);
  });

  it('a finished job cannot be cancelled; an unknown one is undefined', async () => {
    const job = newJob();
    await store.create(job);
    await store.finish(job.job_id, 'failed', '2026-11-30T00:00:06.000Z');
    expect((await store.cancel(job.job_id, '2026-11-30T00:00:07.000Z'))?.job.status).toBe('failed');
    expect(await store.cancel('no-such-job', '2026-11-30T00:00:07.000Z')).toBeUndefined();
    expect(await store.get('no-such-job')).toBeUndefined();
    expect(await store.addResult('no-such-job', 0, ok('a'))).toBe(false);
  });
});
