import {
  ExporterUnderTest,
  Origin,
  RedisServer,
  requireBinary,
  runPlan,
  SystemUnderTest,
  sumSamples,
  waitFor,
} from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const INTERVAL_S = 0.3;
const hasRedis = requireBinary('redis-server');

interface Factor {
  value: number | null;
  threshold: number;
  penalty: number;
  status: string;
  detail: string;
}
interface Health {
  overall_score: number;
  status: string;
  factors: Record<string, Factor>;
  window_seconds: number;
  computed_at: string;
}

describe.skipIf(!hasRedis)('pollers and the health score (real downloader, exporter, Redis)', () => {
  const redis = new RedisServer();
  const origin = new Origin();
  let sut: SystemUnderTest;
  const health = () => sut.json<Health>('/metrics/health-score');

  beforeAll(async () => {
    await redis.start();
    await origin.start();
    let calls = 0;
    // Every 10th call fails with 500: a real upstream fault, turned by the downloader into 502s.
    origin.route('/flaky', (_req, res) =>
      ++calls % 10 === 0 ? res.writeHead(500).end('boom') : res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'),
    );
    origin.static('/fine', 'text/plain', 'fine');
    sut = await new SystemUnderTest(
      { DOWNLOADER_ALLOW_PRIVATE: '1' },
      { REDIS_URL: redis.url, POLL_INTERVAL_S: String(INTERVAL_S), HEALTH_WINDOW: '10' },
    ).start();
  });
  afterAll(async () => {
    await sut?.stop();
    await redis.stop();
    await origin.stop();
  });

  it('polls the downloader and Redis into gauges that exist from the first scrape', async () => {
    const m = await waitFor('both targets up', async () => {
      const s = await sut.metrics();
      return sumSamples(s, 'downloader_component_up', { component: 'downloader' }) === 1 &&
        sumSamples(s, 'downloader_redis_up') === 1
        ? s
        : undefined;
    });
    expect(sumSamples(m, 'downloader_process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(sumSamples(m, 'downloader_uptime_seconds')).toBeGreaterThan(0);
    expect(sumSamples(m, 'downloader_redis_connected_clients')).toBeGreaterThanOrEqual(1);
    expect(sumSamples(m, 'downloader_redis_ping_seconds')).toBeGreaterThan(0);
    for (const pool of ['pdf', 'batch']) {
      expect(m.has(`downloader_concurrency_utilization_percent{pool="${pool}"}`)).toBe(true);
    }
    for (const target of ['downloader', 'redis']) {
      expect(sumSamples(m, 'exporter_poll_duration_seconds_count', { target })).toBeGreaterThan(0);
      expect(m.has(`exporter_poll_errors_total{target="${target}"}`)).toBe(true);
    }
    for (const factor of ['error_rate', 'latency', 'apdex', 'saturation', 'dependencies', 'telemetry', 'targets']) {
      expect(m.has(`downloader_health_factor_penalty{factor="${factor}"}`), factor).toBe(true);
    }
  });

  it('reports no_data without traffic, then healthy with every factor explained', async () => {
    const quiet = await health();
    expect(quiet.factors.error_rate?.status).toBe('no_data');
    expect(quiet.factors.latency?.status).toBe('no_data');
    const served = await Promise.all(Array.from({ length: 50 }, () => fetch(`${sut.base}/health`).then((r) => r.status)));
    expect(served.every((s) => s === 200)).toBe(true);
    const h = await waitFor('traffic in the window', async () => {
      const r = await health();
      return r.factors.error_rate?.status === 'ok' ? r : undefined;
    });
    expect(h).toMatchObject({ overall_score: 100, status: 'healthy', window_seconds: 10 });
    expect(Object.keys(h.factors).sort()).toEqual([
      'apdex',
      'dependencies',
      'error_rate',
      'latency',
      'saturation',
      'targets',
      'telemetry',
    ]);
    for (const f of Object.values(h.factors)) {
      expect(Object.keys(f).sort()).toEqual(['detail', 'penalty', 'status', 'threshold', 'value']);
      expect(f.detail.length).toBeGreaterThan(5);
    }
    expect(h.factors.apdex?.value).toBe(1);
  });

  it("counts a failing upstream as the target's failure, not the service's", async () => {
    const ok = await runPlan(
      sut.base,
      Array.from({ length: 500 }, (_, i) => ({
        method: 'GET',
        path: `/${origin.base}/flaky?i=${i}`,
        endpoint: '/{url}',
        status: 0,
      })),
      16,
    );
    expect(ok).toBe(0); // status 0 never matches: every answer was counted below instead
    const m = await waitFor('all 500 downloads counted', async () => {
      const x = await sut.metrics();
      return sumSamples(x, 'downloader_requests_total', { endpoint: '/{url}' }) >= 500 ? x : undefined;
    });
    expect(sumSamples(m, 'downloader_requests_total', { endpoint: '/{url}', status: '502', cause: 'target' })).toBe(50);
    expect(sumSamples(m, 'downloader_requests_total', { endpoint: '/{url}', status: '200', cause: 'none' })).toBe(450);
    const h = await health();
    expect(h.factors.error_rate).toMatchObject({ value: 0, penalty: 0, status: 'ok' });
    // The 10 s window holds at least the last 10 s (up to one 10 s slot more): on a slow machine not
    // necessarily all 500 downloads.
    // Whatever it holds, the factor's share is its target failures over its requests.
    const [, failed, inWindow] =
      /^(\d+) of (\d+) requests failed because their target did/.exec(h.factors.targets?.detail ?? '') ?? [];
    expect(Number(failed)).toBeGreaterThan(0);
    expect(h.factors.targets?.value).toBeCloseTo((100 * Number(failed)) / Number(inWindow), 1);
    expect(h.factors.targets?.penalty).toBe(0);
  });
  it('shows Redis down within two poll intervals, penalises it, and recovers', async () => {
    const port = redis.port;
    await redis.kill();
    const killedAt = Date.now();
    await waitFor('downloader_redis_up 0', async () => sumSamples(await sut.metrics(), 'downloader_redis_up') === 0 || undefined);
    expect(Date.now() - killedAt).toBeLessThan(2 * INTERVAL_S * 1000 + 500);
    const h = await health();
    expect(h.factors.dependencies?.penalty).toBe(10);
    expect(h.factors.dependencies?.detail).toContain('Redis down');
    const live = await sut.json<{ connections: { redis: { up: boolean } } }>('/metrics/live');
    expect(live.connections.redis.up).toBe(false);
    await redis.start(port);
    await waitFor(
      'downloader_redis_up 1',
      async () => sumSamples(await sut.metrics(), 'downloader_redis_up') === 1 || undefined,
      15_000,
    );
    expect((await health()).factors.dependencies?.penalty).toBe(0);
  });

  it('says down with score 0 while the downloader is stopped, and recovers', async () => {
    await sut.downloader.stop();
    const down = await waitFor('status down', async () => {
      const r = await health();
      return r.status === 'down' ? r : undefined;
    });
    expect(down.overall_score).toBe(0);
    const m = await sut.metrics();
    expect(sumSamples(m, 'downloader_health_score')).toBe(0);
    expect(sumSamples(m, 'downloader_component_up', { component: 'downloader' })).toBe(0);
    expect(sumSamples(m, 'exporter_poll_errors_total', { target: 'downloader' })).toBeGreaterThan(0);
    await sut.startDownloader();
    const back = await waitFor('status back', async () => {
      const r = await health();
      return r.status === 'healthy' ? r : undefined;
    });
    expect(back.overall_score).toBeGreaterThan(80);
  });

  it('serves /metrics/live in the DESIGN shape', async () => {
    const live = await sut.json<Record<string, Record<string, unknown>>>('/metrics/live');
    expect(Object.keys(live).sort()).toEqual([
      'components',
      'concurrency',
      'connections',
      'exporter',
      'performance',
      'system',
      'timestamp',
    ]);
    expect(Object.keys(live.concurrency ?? {}).sort()).toEqual(['batch', 'pdf']);
    expect(live.components).toMatchObject({ downloader: 'up' });
    expect(live.performance).toMatchObject({ window_seconds: 60 });
    expect((live.exporter as { events_received: number }).events_received).toBeGreaterThan(1_000);
    expect((live.system as { resident_memory_bytes: number }).resident_memory_bytes).toBeGreaterThan(0);
  });
});

describe('METRICS_TOKEN', () => {
  const exp = new ExporterUnderTest({ METRICS_TOKEN: 's3cret-token' });
  beforeAll(() => exp.start());
  afterAll(() => exp.stop());

  it.each(['/metrics', '/metrics/performance', '/metrics/health-score', '/metrics/live', '/nope'])(
    '%s: 401 with a JSON body without the token, or with a wrong one; 2xx/404 with it',
    async (path) => {
      const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: 's3cret-token' }];
      for (const headers of attempts) {
        const res = await fetch(`${exp.base}${path}`, { headers });
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ success: false, error_type: 'unauthorized' });
      }
      const ok = await fetch(`${exp.base}${path}`, { headers: { authorization: 'Bearer s3cret-token' } });
      expect(ok.status).toBe(path === '/nope' ? 404 : 200);
    },
  );

  it.each(['/healthz', '/readyz'])('%s stays open for probes', async (path) => {
    expect((await fetch(`${exp.base}${path}`)).status).toBe(200);
  });
});
