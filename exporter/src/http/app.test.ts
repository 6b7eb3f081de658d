import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { RawEventClient } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { loadExporterConfig } from '../config.ts';
import { createExporter, type Exporter } from '../exporter.ts';
import { acceptsGzip, createExporterApp } from './app.ts';
import { localFace } from './face.ts';

/** The exporter built in this process on a manual clock, fed through its real socket, asked through app.request(). */
describe('exporter app, in process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exporter-app-'));
  const clock = new ManualClock();
  let exporter: Exporter;
  let client: RawEventClient;
  const app = () => createExporterApp(localFace(exporter));

  const request = (endpoint: string, method: string, status: number, duration: number, errorType?: string) =>
    `{"v":1,"kind":"request","ts":${clock.now() - 50},"endpoint":"${endpoint}","method":"${method}","status":${status},"duration_s":${duration}${errorType ? `,"error_type":"${errorType}"` : ''}}\n`;

  /** Only the families whose values these events decide (no process, poll-timing or socket figures). */
  const eventFamilies = (text: string) =>
    text
      .split('\n')
      .filter((l) => /^(# (HELP|TYPE) )?(downloader_(requests|errors|response_time|cache)|exporter_events_)/.test(l))
      .join('\n');

  beforeAll(async () => {
    const config = loadExporterConfig({
      EVENTS_SOCKET: join(dir, 'events.sock'),
      DOWNLOADER_STATS_URL: 'http://127.0.0.1:9/internal/stats', // nobody there: the downloader is down
      POLL_INTERVAL_S: '3600',
      DASHBOARD_SAMPLE_S: '5',
    });
    exporter = createExporter({ config, clock, log: () => {} });
    await exporter.start();
    client = await RawEventClient.connect(config.EVENTS_SOCKET);
    await client.write(
      request('/health', 'GET', 200, 0.004) +
        request('/{url}', 'GET', 200, 0.3) +
        request('/{url}', 'GET', 502, 2.5, 'upstream_error') +
        `{"v":1,"kind":"cache","ts":${clock.now() - 50},"result":"hit","format":"markdown"}\n` +
        'not json\n',
    );
    await client.waitAcked(5);
  });
  afterAll(async () => {
    client?.close();
    await exporter?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders the recorded events in the Prometheus text format', async () => {
    const res = await app().request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(eventFamilies(text)).toMatchInlineSnapshot(`
      "# HELP downloader_requests_total Requests served by the downloader; cause: whose failure (none, client, target, service).
      # TYPE downloader_requests_total counter
      downloader_requests_total{endpoint="/health",method="GET",status="200",cause="none"} 1
      downloader_requests_total{endpoint="/{url}",method="GET",status="200",cause="none"} 1
      downloader_requests_total{endpoint="/{url}",method="GET",status="502",cause="target"} 1
      # HELP downloader_errors_total Requests answered with status >= 400; cause: the client, the target, or the service itself.
      # TYPE downloader_errors_total counter
      downloader_errors_total{endpoint="/{url}",method="GET",status="502",cause="target"} 1
      # HELP downloader_response_time_seconds Downloader response time in seconds, until the response headers were decided.
      # TYPE downloader_response_time_seconds histogram
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="0.005"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="0.01"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="0.025"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="0.05"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="0.1"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="0.25"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="0.5"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="1"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="2"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="3"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="5"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="10"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="30"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="60"} 1
      downloader_response_time_seconds_bucket{endpoint="/health",method="GET",le="+Inf"} 1
      downloader_response_time_seconds_sum{endpoint="/health",method="GET"} 0.004
      downloader_response_time_seconds_count{endpoint="/health",method="GET"} 1
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="0.005"} 0
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="0.01"} 0
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="0.025"} 0
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="0.05"} 0
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="0.1"} 0
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="0.25"} 0
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="0.5"} 1
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="1"} 1
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="2"} 1
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="3"} 2
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="5"} 2
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="10"} 2
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="30"} 2
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="60"} 2
      downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="+Inf"} 2
      downloader_response_time_seconds_sum{endpoint="/{url}",method="GET"} 2.8
      downloader_response_time_seconds_count{endpoint="/{url}",method="GET"} 2
      # HELP downloader_cache_lookups_total Content-cache lookups by result.
      # TYPE downloader_cache_lookups_total counter
      downloader_cache_lookups_total{result="hit"} 1
      downloader_cache_lookups_total{result="miss"} 0
      downloader_cache_lookups_total{result="error"} 0
      # HELP exporter_events_received_total Valid events aggregated, by transport and kind.
      # TYPE exporter_events_received_total counter
      exporter_events_received_total{transport="socket",kind="hello"} 0
      exporter_events_received_total{transport="socket",kind="request"} 3
      exporter_events_received_total{transport="socket",kind="upstream"} 0
      exporter_events_received_total{transport="socket",kind="cache"} 1
      exporter_events_received_total{transport="socket",kind="pdf"} 0
      exporter_events_received_total{transport="socket",kind="webhook"} 0
      exporter_events_received_total{transport="socket",kind="job"} 0
      exporter_events_received_total{transport="socket",kind="dropped"} 0
      exporter_events_received_total{transport="redis",kind="hello"} 0
      exporter_events_received_total{transport="redis",kind="request"} 0
      exporter_events_received_total{transport="redis",kind="upstream"} 0
      exporter_events_received_total{transport="redis",kind="cache"} 0
      exporter_events_received_total{transport="redis",kind="pdf"} 0
      exporter_events_received_total{transport="redis",kind="webhook"} 0
      exporter_events_received_total{transport="redis",kind="job"} 0
      exporter_events_received_total{transport="redis",kind="dropped"} 0
      # HELP exporter_events_rejected_total Lines rejected by the decoder, by reason.
      # TYPE exporter_events_rejected_total counter
      exporter_events_rejected_total{reason="not_json"} 1
      exporter_events_rejected_total{reason="too_long"} 0
      exporter_events_rejected_total{reason="unknown_kind"} 0
      exporter_events_rejected_total{reason="bad_field"} 0
      exporter_events_rejected_total{reason="bad_version"} 0
      exporter_events_rejected_total{reason="truncated"} 0"
    `);
    expect(text).toContain('exporter_event_delay_seconds_bucket{le="0.05"} 4');
    expect(text).toContain('downloader_component_up{component="downloader"} 0');
    expect(text).toContain('downloader_health_score 0');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('answers OpenMetrics when asked, ending in # EOF', async () => {
    const res = await app().request('/metrics', { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(res.headers.get('content-type')).toContain('application/openmetrics-text');
    const text = await res.text();
    expect(text).toContain('# TYPE downloader_requests counter');
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(text.match(/# EOF/g)).toHaveLength(1);
  });

  it('serves the performance, health and live views from the same events', async () => {
    const perf = (await (await app().request('/metrics/performance')).json()) as Record<string, unknown>;
    expect(perf).toMatchObject({ total_requests: 3, total_errors: 1, windows: { '1m': { total_requests: 3 } } });
    const health = (await (await app().request('/metrics/health-score')).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ overall_score: 0, status: 'down', window_seconds: 300 });
    const live = (await (await app().request('/metrics/live')).json()) as { exporter: Record<string, number> };
    expect(live.exporter).toMatchObject({ events_received: 4, events_rejected: 1, events_dropped: 0, last_event_age_seconds: 0 });
  });

  it('samples the history on the clock, and refuses a bad `since` with a JSON 400', async () => {
    clock.advance(15_000);
    const res = await app().request('/metrics/live/history?since=0');
    const body = (await res.json()) as { interval_seconds: number; points: { t: number; rps: number }[] };
    expect(body.interval_seconds).toBe(5);
    expect(body.points.map((p) => p.t - body.points[0]!.t)).toEqual([0, 5_000, 10_000]);
    expect(body.points[0]?.rps).toBeCloseTo(3 / 5);
    const later = await app().request(`/metrics/live/history?since=${body.points[1]!.t}`);
    expect(((await later.json()) as { points: unknown[] }).points).toHaveLength(1);
    const bad = await app().request('/metrics/live/history?since=-1');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ success: false, error_type: 'bad_request' });
  });

  it('asks for METRICS_TOKEN on data routes only, in constant time, with JSON errors', async () => {
    const guarded = createExporterApp(localFace(exporter), { token: 's3cret' });
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer s3cre' },
      { authorization: 's3cret' },
      { authorization: `Bearer ${'x'.repeat(9_000)}` },
    ];
    for (const headers of attempts) {
      const res = await guarded.request('/metrics', { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error_type: 'unauthorized' });
    }
    expect((await guarded.request('/metrics', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    for (const open of ['/healthz', '/readyz', '/dashboard', '/dashboard/uplot.js'])
      expect((await guarded.request(open)).status).toBe(200);
    expect(() => createExporterApp(localFace(exporter), { token: '' })).toThrow(/empty secret/);
  });

  it('gzips the JSON views when asked, and answers a failed view with a 500 JSON error', async () => {
    for (const path of ['/metrics/performance', '/metrics/health-score', '/metrics/live']) {
      const [plain, packed] = await Promise.all([
        app().request(path),
        app().request(path, { headers: { 'accept-encoding': 'gzip' } }),
      ]);
      expect(plain.headers.get('content-encoding'), path).toBeNull();
      expect(packed.headers.get('content-encoding'), path).toBe('gzip');
      expect(packed.headers.get('vary'), path).toBe('Accept-Encoding');
      const unpacked = JSON.parse(gunzipSync(Buffer.from(await packed.arrayBuffer())).toString());
      expect(Object.keys(unpacked), path).toEqual(Object.keys(await plain.json()));
    }
    const failing = createExporterApp(
      { ...localFace(exporter), view: () => Promise.reject(new Error('boom')) },
      { logError: () => {} },
    );
    const res = await failing.request('/metrics/performance');
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ success: false, error_type: 'internal_error' });
  });

  it('shares one render among a storm of concurrent scrapes, and reuses it for SCRAPE_REUSE_MS', async () => {
    let renders = 0;
    const counting = {
      ...localFace(exporter),
      render: async (format: Parameters<Exporter['render']>[0]) => {
        renders++;
        return exporter.render(format);
      },
    };
    const stormy = createExporterApp(counting, { reuseMs: 1_000, now: () => clock.now() });
    const bodies = await Promise.all(Array.from({ length: 200 }, async () => (await stormy.request('/metrics')).text()));
    expect(renders).toBe(1);
    expect(new Set(bodies).size).toBe(1);
    await stormy.request('/metrics');
    expect(renders).toBe(1); // still within the reuse time
    clock.advance(1_001);
    await stormy.request('/metrics');
    expect(renders).toBe(2);
    await stormy.request('/metrics', { headers: { accept: 'application/openmetrics-text' } });
    expect(renders).toBe(3); // each format is its own render
  });

  it('gzips /metrics when the scraper accepts it', async () => {
    const res = await app().request('/metrics', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const text = gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8');
    expect(text).toContain('# TYPE downloader_requests_total counter');
    expect(res.headers.get('vary')).toBe('Accept, Accept-Encoding');
    const plain = await app().request('/metrics', { headers: { 'accept-encoding': 'gzip;q=0, br' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toContain('# TYPE downloader_requests_total counter');
  });

  it.each([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['GZIP', true],
    ['deflate, gzip;q=0.5', true],
    ['gzip;q=0', false],
    ['gzip; q=0.000', false],
    ['*', true],
    ['*;q=0', false],
    ['gzip;q=0, *', false],
    ['br, identity', false],
    ['gzip;q=abc', false],
  ])('Accept-Encoding %j admits gzip: %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await app().request('/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ success: false, error: 'no route for /nope', error_type: 'not_found' });
  });

  it('expires series unseen for SERIES_TTL on the sweeper, and leaves no timer behind when stopped', async () => {
    clock.advance(900_000 + 30_000);
    const text = await (await app().request('/metrics')).text();
    expect(text).not.toContain('downloader_requests_total{');
    expect(text).toContain('exporter_series_expired_total 2');
    await exporter.stop();
    expect(clock.pending).toBe(0);
  });
});
