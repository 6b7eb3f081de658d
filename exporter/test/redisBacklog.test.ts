// A backlog on the Redis stream (the exporter was down while the downloader kept writing) is drained
// in bounded reads: every event counted once, and the exporter's memory stays within its budget.
import { readFileSync } from 'node:fs';
import { ExporterUnderTest, RedisServer, requireBinary, sumSamples, waitFor } from '@dl/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const hasRedis = requireBinary('redis-server');
const ENTRIES = 1_000;
const LINES = 500;
const ENDPOINTS = ['/health', '/{url}', '/batch', '/jobs/{job_id}/status'];

/** One entry as the downloader writes it: a flush slice of canonical lines, about 60 KB (slices stop at 64 KiB). */
function entry(seq: number, ts: number): string {
  let out = '';
  for (let i = 0; i < LINES; i++) {
    const n = seq * LINES + i;
    out += `{"v":1,"kind":"request","ts":${ts},"endpoint":"${ENDPOINTS[n % 4]}","method":"GET","status":${n % 50 ? 200 : 503},"duration_s":0.${String(1 + (n % 997)).padStart(4, '0')}}\n`;
  }
  return out;
}

/** A field of /proc/PID/status in MiB (0 once the process is gone). */
function statusMiB(pid: number, field: 'VmHWM' | 'RssAnon'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

describe.skipIf(!hasRedis)('a backlog of 500,000 events on the Redis stream', () => {
  const redis = new RedisServer();
  let exporter: ExporterUnderTest | undefined;

  beforeAll(async () => {
    await redis.start();
    const client = new Redis(redis.url);
    const ts = Date.now();
    for (let i = 0; i < ENTRIES; i += 50) {
      const p = client.pipeline();
      for (let k = i; k < i + 50; k++) p.xadd('backlog', '*', 'n', LINES, 'e', entry(k, ts));
      await p.exec();
    }
    client.disconnect();
  }, 60_000);
  afterAll(async () => {
    await exporter?.stop();
    await redis.stop();
  });

  it('is counted exactly, acknowledged, and read in bounded memory', async () => {
    // 60 MB of entries. Read 1,000 entries at a time (as before) the exporter's anonymous memory
    // reached 150 MiB and its RSS 175-200 MiB.
    exporter = await new ExporterUnderTest({ EVENTS_TRANSPORT: 'redis', REDIS_URL: redis.url, EVENTS_STREAM: 'backlog' }).start();
    const e = exporter;
    let anonymousPeak = 0;
    const sampler = setInterval(() => {
      anonymousPeak = Math.max(anonymousPeak, statusMiB(e.process.pid, 'RssAnon'));
    }, 5);
    const total = ENTRIES * LINES;
    try {
      await waitFor(
        'backlog drained',
        async () =>
          sumSamples(await e.metrics(), 'exporter_events_received_total', { transport: 'redis' }) >= total ? true : undefined,
        60_000,
      );
    } finally {
      clearInterval(sampler);
    }
    const samples = await e.metrics();
    expect(sumSamples(samples, 'exporter_events_received_total', { transport: 'redis' })).toBe(total);
    expect(sumSamples(samples, 'downloader_requests_total')).toBe(total);
    expect(sumSamples(samples, 'downloader_requests_total', { status: '503' })).toBe(total / 50);
    expect(sumSamples(samples, 'exporter_events_rejected_total')).toBe(0);
    const client = new Redis(redis.url);
    try {
      await waitFor('every entry acknowledged', async () =>
        (await client.xpending('backlog', 'exporter'))[0] === 0 ? true : undefined,
      );
    } finally {
      client.disconnect();
    }
    // Anonymous memory is what the exporter allocates; RSS adds the pages of the Node binary it has
    // touched (on Node 24 some 54 MiB of the peak), logged for docs/benchmarks.md.
    const rssPeak = statusMiB(e.process.pid, 'VmHWM');
    console.log(
      `redis backlog: anonymous peak ${anonymousPeak.toFixed(1)} MiB, RSS peak ${rssPeak.toFixed(1)} MiB (${process.version})`,
    );
    expect(anonymousPeak).toBeGreaterThan(0);
    expect(anonymousPeak).toBeLessThanOrEqual(64);
  }, 90_000);
});
