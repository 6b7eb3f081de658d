import type { DownloaderStats, PoolStats } from '@dl/shared';
import { COMPONENTS, componentStates, currentStats, POOLS, utilization } from '../poll/downloaderStats.ts';
import type { Poller } from '../poll/poller.ts';
import type { RedisFigures } from '../poll/redisPoller.ts';
import { CollectedFamily, type Family, singleValue } from './families.ts';

type Sample = readonly [readonly string[], number];

/** Gauges read at scrape time from the last downloader poll. Pools exist from start-up at 0. */
export function downloaderFamilies(poller: Poller<DownloaderStats>): Family[] {
  const stats = () => currentStats(poller);
  const perPool = (pick: (p: PoolStats | undefined) => number) => (): Sample[] =>
    POOLS.map((pool) => [[pool], pick(stats()?.pools?.[pool])]);
  const gauge = (name: string, help: string, labels: string[], collect: () => Iterable<Sample>) =>
    new CollectedFamily(name, help, labels, collect);
  const single = (f: (s: DownloaderStats) => number | undefined) => () => {
    const s = stats();
    return s ? f(s) : undefined;
  };
  return [
    gauge(
      'downloader_concurrency_limit',
      'Slots of each work pool.',
      ['pool'],
      perPool((p) => p?.limit ?? 0),
    ),
    gauge(
      'downloader_concurrency_active',
      'Busy slots of each work pool.',
      ['pool'],
      perPool((p) => p?.active ?? 0),
    ),
    gauge(
      'downloader_concurrency_queued',
      'Work waiting for a slot.',
      ['pool'],
      perPool((p) => p?.queued ?? 0),
    ),
    gauge(
      'downloader_concurrency_utilization_percent',
      'Busy slots as a percentage of the limit.',
      ['pool'],
      perPool(utilization),
    ),
    gauge(
      'downloader_concurrency_utilization_ratio',
      'Busy slots as a share of the limit, 0-1 (the percent gauge divided by 100).',
      ['pool'],
      perPool((p) => utilization(p) / 100),
    ),
    gauge('downloader_http_client_connections', 'Upstream HTTP client connections by state.', ['state'], () => {
      const c = stats()?.http_client?.connections;
      return (['active', 'idle', 'pending'] as const).map((k) => [[k], c?.[k] ?? 0] as const);
    }),
    gauge('downloader_circuit_breakers', 'Per-host circuit breakers by state.', ['state'], () => {
      const b = stats()?.circuit_breakers;
      return (['closed', 'open', 'half_open'] as const).map((k) => [[k], b?.[k] ?? 0] as const);
    }),
    gauge('downloader_component_up', 'Whether each component works (1), or is down or not configured (0).', ['component'], () => {
      const states = componentStates(poller);
      return COMPONENTS.map((c) => [[c], states[c] ? 1 : 0] as const);
    }),
    singleValue(
      'downloader_event_loop_lag_seconds',
      'Mean event-loop delay of the downloader since the previous poll.',
      single((s) => s.process.event_loop_lag_seconds),
    ),
    singleValue(
      'downloader_process_cpu_seconds_total',
      'CPU seconds used by the downloader.',
      single((s) => s.process.cpu_seconds_total),
      'counter',
    ),
    singleValue(
      'downloader_process_resident_memory_bytes',
      'Resident memory of the downloader.',
      single((s) => s.process.resident_memory_bytes),
    ),
    singleValue(
      'downloader_process_start_time_seconds',
      'Start time of the downloader since the Unix epoch, in seconds.',
      single((s) => s.started_at / 1000),
    ),
    gauge('downloader_build_info', 'The downloader build that answers the polls: always 1.', ['version', 'node_version'], () => {
      const s = stats();
      return s ? [[[s.version, s.node_version ?? 'unknown'], 1]] : [];
    }),
    singleValue(
      'downloader_nodejs_heap_size_used_bytes',
      'V8 heap in use in the downloader.',
      single((s) => s.process.heap_used_bytes),
    ),
    singleValue(
      'downloader_nodejs_heap_size_total_bytes',
      'V8 heap reserved by the downloader.',
      single((s) => s.process.heap_total_bytes),
    ),
    singleValue(
      'downloader_nodejs_external_memory_bytes',
      'Memory of the downloader held outside the V8 heap (buffers).',
      single((s) => s.process.external_memory_bytes),
    ),
    singleValue(
      'downloader_nodejs_eventloop_lag_p99_seconds',
      'p99 event-loop delay of the downloader since the previous poll (monitorEventLoopDelay, its timer interval taken off).',
      single((s) => s.process.event_loop_lag_p99_seconds),
    ),
    singleValue(
      'downloader_nodejs_eventloop_utilization_ratio',
      'Share of the time the downloader event loop was busy since the previous poll, 0-1.',
      single((s) => s.process.event_loop_utilization),
    ),
    singleValue(
      'downloader_nodejs_active_resources',
      'Handles and requests keeping the downloader event loop alive.',
      single((s) => s.process.active_resources),
    ),
    new CollectedFamily(
      'downloader_nodejs_gc_runs_total',
      'Garbage collections in the downloader by kind.',
      ['kind'],
      gcSamples(stats, 'runs'),
      'counter',
    ),
    new CollectedFamily(
      'downloader_nodejs_gc_seconds_total',
      'Time the downloader spent in garbage collection by kind.',
      ['kind'],
      gcSamples(stats, 'seconds'),
      'counter',
    ),
  ];
}

const GC_KINDS = ['minor', 'major', 'incremental', 'weakcb'] as const;

function gcSamples(stats: () => DownloaderStats | undefined, field: 'runs' | 'seconds') {
  return (): Sample[] => {
    const gc = stats()?.process.gc;
    return gc ? GC_KINDS.map((k) => [[k], gc[k][field]] as const) : [];
  };
}

/** Redis figures from the exporter's own poll; `up` is always present once REDIS_URL is set. */
export function redisFamilies(poller: Poller<RedisFigures>): Family[] {
  const g = (name: string, help: string, f: (r: RedisFigures) => number | undefined, type: 'gauge' | 'counter' = 'gauge') =>
    singleValue(name, help, () => (poller.up && poller.value ? f(poller.value) : undefined), type);
  return [
    new CollectedFamily('downloader_redis_up', 'Whether the last poll of Redis succeeded.', [], () => [[[], poller.up ? 1 : 0]]),
    g('downloader_redis_connected_clients', 'Clients connected to Redis.', (r) => r.connected_clients),
    g('downloader_redis_used_memory_bytes', 'Memory used by Redis.', (r) => r.used_memory_bytes),
    g('downloader_redis_commands_processed_total', 'Commands Redis has processed.', (r) => r.commands_processed_total, 'counter'),
    g('downloader_redis_keyspace_hits_total', 'Successful key lookups in Redis.', (r) => r.keyspace_hits_total, 'counter'),
    g('downloader_redis_keyspace_misses_total', 'Failed key lookups in Redis.', (r) => r.keyspace_misses_total, 'counter'),
    g('downloader_redis_ping_seconds', 'Round trip of the last PING.', (r) => r.ping_seconds),
    g('downloader_redis_stream_length', 'Entries in the events stream.', (r) => r.stream_length),
    g(
      'downloader_redis_stream_pending',
      'Events stream entries delivered to the exporter and not yet acknowledged.',
      (r) => r.stream_pending,
    ),
  ];
}
