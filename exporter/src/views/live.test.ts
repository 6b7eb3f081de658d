import type { DownloaderStats } from '@dl/shared';
import { describe, expect, it } from 'vitest';
import { Aggregator } from '../aggregate/aggregator.ts';
import { DomainAggregator } from '../aggregate/domainAggregator.ts';
import { RequestAggregator } from '../aggregate/requestAggregator.ts';
import { ManualClock } from '../clock.ts';
import { LineDecoder } from '../ingest/lineDecoder.ts';
import { Poller } from '../poll/poller.ts';
import { LiveHistory } from './history.ts';
import { buildLive } from './live.ts';

const stats = (cpu: number): DownloaderStats => ({
  version: '1',
  pid: 42,
  started_at: 1,
  uptime_seconds: 60,
  telemetry: {
    transport: 'socket',
    emitted: 0,
    acknowledged: 0,
    dropped: 0,
    buffered: 0,
    buffered_bytes: 0,
    connected: true,
    connects: 1,
  },
  process: {
    cpu_seconds_total: cpu,
    resident_memory_bytes: 1000,
    heap_used_bytes: 10,
    event_loop_lag_seconds: 0.001,
    event_loop_lag_p99_seconds: 0.002,
  },
  pools: { pdf: { limit: 4, active: 3, queued: 1 }, batch: { limit: 10, active: 0, queued: 0 } },
  http_client: { healthy: true, connections: { active: 2, idle: 5, pending: 0 } },
  circuit_breakers: { closed: 1, open: 0, half_open: 0 },
  redis: { configured: false, up: false },
  pdf_browser: { available: false },
});

function world() {
  const clock = new ManualClock();
  const aggregator = new Aggregator(new RequestAggregator({ bounds: [0.1, 1], seriesLimit: 10 }), new DomainAggregator());
  const decoder = new LineDecoder({ next: aggregator, now: () => clock.now() });
  let cpu = 10;
  const downloader = new Poller<DownloaderStats>({
    target: 'downloader',
    intervalMs: 5_000,
    timeoutMs: 1_000,
    poll: async () => stats(cpu),
    observer: { polled: () => {} },
    clock,
    log: () => {},
  });
  const live = () => buildLive({ now: clock.now(), uptimeSeconds: 30, aggregator, decoder, downloader, redis: undefined });
  return { clock, aggregator, decoder, downloader, live, setCpu: (v: number) => (cpu = v) };
}

describe('the live view', () => {
  it('is all nulls and "down" before the first poll, never made-up zeros', () => {
    const { live } = world();
    const v = live();
    expect(v.concurrency.pdf).toEqual({ limit: null, active: null, queued: null, available: null, utilization_percent: null });
    expect(v.components).toEqual({ downloader: 'down', redis: 'down', http_client: 'down', pdf_browser: 'down' });
    expect(v.system.cpu_percent).toBeNull();
    expect(v.connections.redis.up).toBeNull();
    expect(v.exporter).toMatchObject({ events_received: 0, last_event_age_seconds: null });
  });

  it('shows pools, components and CPU between two polls', async () => {
    const { clock, downloader, live, setCpu, aggregator } = world();
    await downloader.pollNow();
    clock.advance(5_000);
    setCpu(11); // one CPU second in five
    await downloader.pollNow();
    aggregator.request('/x', 'GET', 200, 0.05, clock.now());
    clock.advance(2_000);
    const v = live();
    expect(v.concurrency.pdf).toEqual({ limit: 4, active: 3, queued: 1, available: 1, utilization_percent: 75 });
    expect(v.components).toEqual({ downloader: 'up', http_client: 'up', pdf_browser: 'down' });
    expect(v.system.cpu_percent).toBeCloseTo(20);
    expect(v.connections.http_client).toEqual({ healthy: true, active: 2, idle: 5, pending: 0 });
    expect(v.performance).toMatchObject({ total_requests: 1, window_seconds: 60 });
    expect(v.exporter.last_event_age_seconds).toBe(2);
  });
});

describe('the live history', () => {
  it('turns counters into per-second rates between samples on the clock, and keeps at most `capacity` points', () => {
    const { clock, aggregator, decoder, live } = world();
    const history = new LiveHistory(
      {
        clock,
        live,
        health: () => 97,
        counters: () => ({
          statusClasses: aggregator.requests.statusClassTotals(),
          cache: aggregator.domain.cacheTotals(),
          received: decoder.receivedTotal,
          rejected: decoder.rejectedTotal,
          dropped: aggregator.domain.droppedTotal,
        }),
        upstreamP95: () => null,
        latency: () => null,
      },
      1_000,
      3,
    );
    history.start();
    for (let i = 0; i < 4; i++) aggregator.request('/x', 'GET', i === 0 ? 503 : 200, 0.1, clock.now());
    aggregator.cache('hit', clock.now());
    aggregator.cache('miss', clock.now());
    clock.advance(1_000);
    const [first] = history.since(0);
    expect(first).toMatchObject({ rps: 4, errors_per_s: 1, error_rate_percent: 25, cache_hit_ratio: 0.5, health_score: 97 });
    expect(first?.status).toEqual({ '2xx': 3, '3xx': 0, '4xx': 0, '5xx': 1 });
    expect(first?.p95_ms).toBeNull();
    clock.advance(4_000);
    const points = history.since(0);
    expect(points).toHaveLength(3);
    expect(points.map((p) => p.rps)).toEqual([0, 0, 0]);
    expect(points.at(-1)?.cache_hit_ratio).toBeNull();
    history.stop();
    expect(clock.pending).toBe(0);
  });
});
