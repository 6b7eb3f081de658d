import { spawnSync } from 'node:child_process';
import { Origin, parseMetrics, RedisServer, requireBinary, SystemUnderTest, sumSamples, waitFor } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const hasPromtool = requireBinary('promtool');
const hasRedis = requireBinary('redis-server');

describe.skipIf(!hasPromtool || !hasRedis)('metric conventions on a live exporter (downloader, Redis, traffic)', () => {
  const origin = new Origin();
  const redis = new RedisServer();
  let sut: SystemUnderTest;

  beforeAll(async () => {
    await origin.start();
    origin.static('/page', 'text/plain', 'a page');
    await redis.start();
    sut = await new SystemUnderTest(
      { DOWNLOADER_ALLOW_PRIVATE: '1', REDIS_URL: redis.url },
      { REDIS_URL: redis.url, POLL_INTERVAL_S: '0.3' },
    ).start();
    // Every kind of family with samples: requests, errors, upstream, cache, polls.
    for (const path of ['/health', `/${origin.base}/page`, `/${origin.base}/page`, `/${origin.base}/missing`, '/nope'])
      await fetch(`${sut.base}${path}`);
    await waitFor('5 requests and a poll with the new figures', async () => {
      const m = await sut.metrics();
      return sumSamples(m, 'downloader_requests_total') >= 5 && m.has('downloader_nodejs_eventloop_utilization_ratio')
        ? true
        : undefined;
    });
  });
  afterAll(async () => {
    await sut?.stop();
    await redis.stop();
    await origin.stop();
  });

  it('promtool check metrics finds nothing, with no exclusions', async () => {
    const text = await (await fetch(`${sut.metricsBase}/metrics`)).text();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('names the exporter process as stock dashboards expect, the downloader under its prefix, with build info and ratios', async () => {
    // Past the reuse window and several lag samples since the last render.
    await new Promise((r) => setTimeout(r, 600));
    const text = await (await fetch(`${sut.metricsBase}/metrics`)).text();
    const m = await sut.metrics();
    expect(text).not.toMatch(/^exporter_(process|nodejs)_/m);
    expect(text).not.toMatch(/^nodejs_active_\w+_total/m);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes'])
      expect(m.get(name)).toBeGreaterThan(0);
    expect(text).toMatch(/^downloader_build_info\{version="0\.1\.0",node_version="v\d+\.\d+\.\d+"\} 1$/m);
    expect(text).toMatch(/^exporter_build_info\{version="0\.1\.0",node_version="v\d+\.\d+\.\d+"\} 1$/m);
    // Start times beside the uptime: they agree within a poll.
    const start = m.get('downloader_process_start_time_seconds') as number;
    const uptime = m.get('downloader_uptime_seconds') as number;
    expect(Math.abs(start + uptime - Date.now() / 1000)).toBeLessThan(2);
    expect(m.get('process_start_time_seconds')).toBeLessThanOrEqual(Date.now() / 1000);
    // The downloader's runtime: heap, GC by kind, utilisation and a lag that is not the timer's interval.
    expect(m.get('downloader_nodejs_heap_size_total_bytes')).toBeGreaterThan(
      m.get('downloader_nodejs_heap_size_used_bytes') ?? 0,
    );
    for (const kind of ['minor', 'major', 'incremental', 'weakcb']) {
      expect(m.has(`downloader_nodejs_gc_runs_total{kind="${kind}"}`)).toBe(true);
      expect(m.has(`downloader_nodejs_gc_seconds_total{kind="${kind}"}`)).toBe(true);
    }
    const elu = m.get('downloader_nodejs_eventloop_utilization_ratio') as number;
    expect(elu).toBeGreaterThanOrEqual(0);
    expect(elu).toBeLessThanOrEqual(1);
    expect(m.get('downloader_event_loop_lag_seconds')).toBeLessThan(0.005); // idle: ~20 ms before, the timer's resolution
    // The exporter's own lag, likewise without its sampling interval (prom-client's read 10 ms idle),
    // read from the render that came 600 ms after the last (each render starts a new window).
    const lag = parseMetrics(text);
    expect(lag.get('nodejs_eventloop_lag_max_seconds')).toBeGreaterThan(0); // samples were taken: the window is not empty
    expect(lag.get('nodejs_eventloop_lag_min_seconds')).toBeLessThan(0.005);
    expect(lag.get('nodejs_eventloop_lag_p50_seconds')).toBeLessThan(0.005);
    expect(lag.get('nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(lag.get('nodejs_eventloop_lag_min_seconds') ?? 0);
    expect(m.get('downloader_nodejs_active_resources')).toBeGreaterThan(0);
    // Ratios beside the seed's percent and 0-100 gauges.
    expect(sumSamples(m, 'downloader_concurrency_utilization_ratio', { pool: 'pdf' })).toBe(
      sumSamples(m, 'downloader_concurrency_utilization_percent', { pool: 'pdf' }) / 100,
    );
    expect(m.get('downloader_health_score_ratio')).toBe((m.get('downloader_health_score') as number) / 100);
  });
});
