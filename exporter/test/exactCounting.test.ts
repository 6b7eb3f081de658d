import { expectedCounts, plan, runPlan, SystemUnderTest, sumSamples, waitFor } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('exact counting over the unix socket (real processes)', () => {
  const sut = new SystemUnderTest();
  beforeAll(() => sut.start());
  afterAll(() => sut.stop());

  it('counts N = 1,000 requests exactly per label set, histogram _count included, within 1 s', async () => {
    const requests = plan(1_000);
    expect(await runPlan(sut.base, requests)).toBe(1_000);
    const doneAt = Date.now();
    const expected = expectedCounts(requests);
    const samples = await waitFor(
      'every request counted',
      async () => {
        const s = await sut.metrics();
        return sumSamples(s, 'downloader_requests_total') === 1_000 ? s : undefined;
      },
      5_000,
    );
    expect(Date.now() - doneAt).toBeLessThan(1_000);
    for (const [key, count] of expected) {
      const [endpoint, method, status] = key.split('|') as [string, string, string];
      expect(sumSamples(samples, 'downloader_requests_total', { endpoint, method, status }), key).toBe(count);
      const errors = sumSamples(samples, 'downloader_errors_total', { endpoint, method, status });
      expect(errors, `errors ${key}`).toBe(Number(status) >= 400 ? count : 0);
    }
    const byRoute = new Map<string, number>();
    for (const r of requests) byRoute.set(`${r.endpoint}|${r.method}`, (byRoute.get(`${r.endpoint}|${r.method}`) ?? 0) + 1);
    for (const [key, count] of byRoute) {
      const [endpoint, method] = key.split('|') as [string, string];
      expect(sumSamples(samples, 'downloader_response_time_seconds_count', { endpoint, method }), key).toBe(count);
      expect(sumSamples(samples, 'downloader_response_time_seconds_bucket', { endpoint, method, le: '+Inf' })).toBe(count);
    }
    expect(sumSamples(samples, 'exporter_events_rejected_total')).toBe(0);
    const ledger = await sut.settled();
    expect(ledger).toMatchObject({ emitted: 1_000, acknowledged: 1_000, dropped: 0, buffered: 0 });
  });

  it('serves the performance JSON in the DESIGN shape with the same counts', async () => {
    const perf = (await (await fetch(`${sut.metricsBase}/metrics/performance`)).json()) as Record<string, unknown> & {
      endpoints: Record<string, Record<string, number>>;
      windows: Record<string, { total_requests: number }>;
    };
    expect(perf.total_requests).toBe(1_000);
    expect(perf.total_errors).toBe(plan(1_000).filter((r) => r.status >= 400).length);
    const health = perf.endpoints['GET_/health'];
    expect(health).toBeDefined();
    expect(Object.keys(health ?? {}).sort()).toEqual(
      [
        'request_count',
        'error_count',
        'error_rate_percent',
        'avg_response_time',
        'min_response_time',
        'max_response_time',
        'p50_response_time',
        'p90_response_time',
        'p95_response_time',
        'p99_response_time',
        'requests_per_second',
      ].sort(),
    );
    expect(health?.request_count).toBe(250);
    expect(perf.windows['1m']?.total_requests).toBe(1_000);
    expect(perf.windows['5m']?.total_requests).toBe(1_000);
  });

  it('serves OpenMetrics when asked, Prometheus text otherwise', async () => {
    const om = await fetch(`${sut.metricsBase}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(om.headers.get('content-type')).toContain('application/openmetrics-text');
    const text = await om.text();
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(text).toContain('# TYPE downloader_requests counter');
    const prom = await fetch(`${sut.metricsBase}/metrics`);
    expect(prom.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await prom.text()).toContain('# TYPE downloader_requests_total counter');
  });
});
