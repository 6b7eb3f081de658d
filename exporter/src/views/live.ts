import type { DownloaderStats } from '@dl/shared';
import type { Aggregator } from '../aggregate/aggregator.ts';
import type { LineDecoder } from '../ingest/lineDecoder.ts';
import { componentStates, cpuPercent, currentStats, type PoolName, utilization } from '../poll/downloaderStats.ts';
import type { Poller } from '../poll/poller.ts';
import type { RedisFigures } from '../poll/redisPoller.ts';
import { type PerformanceReport, performanceReport } from './performance.ts';

export interface LiveSources {
  now: number;
  uptimeSeconds: number;
  aggregator: Aggregator;
  decoder: LineDecoder;
  downloader: Poller<DownloaderStats>;
  redis: Poller<RedisFigures> | undefined;
}

interface PoolView {
  limit: number | null;
  active: number | null;
  queued: number | null;
  available: number | null;
  utilization_percent: number | null;
}

export interface LiveView {
  timestamp: string;
  concurrency: Record<PoolName, PoolView>;
  performance: PerformanceReport & { window_seconds: number };
  connections: {
    redis: { up: boolean | null; connected_clients: number | null; ping_ms: number | null; used_memory_bytes: number | null };
    http_client: { healthy: boolean | null; active: number | null; idle: number | null; pending: number | null };
  };
  components: Record<string, 'up' | 'down'>;
  system: {
    downloader_uptime_seconds: number | null;
    cpu_percent: number | null;
    cpu_seconds_total: number | null;
    resident_memory_bytes: number | null;
    event_loop_lag_seconds: number | null;
  };
  exporter: {
    uptime_seconds: number;
    events_received: number;
    events_rejected: number;
    events_dropped: number;
    last_event_age_seconds: number | null;
  };
}

/** The `/metrics/live` view: one JSON object for dashboards that poll. Unknown figures are null. */
export function buildLive(src: LiveSources): LiveView {
  const stats = currentStats(src.downloader);
  const { requests, domain, lastEventAt } = src.aggregator;
  const pool = (name: PoolName): PoolView => {
    const p = stats?.pools?.[name];
    if (!p) return { limit: null, active: null, queued: null, available: null, utilization_percent: null };
    return { ...p, available: Math.max(0, p.limit - p.active), utilization_percent: utilization(p) };
  };
  const redis = src.redis?.up ? src.redis.value : undefined;
  const http = stats?.http_client;
  return {
    timestamp: new Date(src.now).toISOString(),
    concurrency: { pdf: pool('pdf'), batch: pool('batch') },
    performance: { ...performanceReport(requests, src.now, src.uptimeSeconds, 60_000), window_seconds: 60 },
    connections: {
      redis: {
        up: src.redis ? src.redis.up : stats?.redis?.configured ? stats.redis.up : null,
        connected_clients: redis?.connected_clients ?? null,
        ping_ms: redis ? redis.ping_seconds * 1000 : null,
        used_memory_bytes: redis?.used_memory_bytes ?? null,
      },
      http_client: {
        healthy: http?.healthy ?? null,
        active: http?.connections.active ?? null,
        idle: http?.connections.idle ?? null,
        pending: http?.connections.pending ?? null,
      },
    },
    components: Object.fromEntries(Object.entries(componentStates(src.downloader)).map(([c, up]) => [c, up ? 'up' : 'down'])),
    system: {
      downloader_uptime_seconds: stats?.uptime_seconds ?? null,
      cpu_percent: cpuPercent(src.downloader),
      cpu_seconds_total: stats?.process.cpu_seconds_total ?? null,
      resident_memory_bytes: stats?.process.resident_memory_bytes ?? null,
      event_loop_lag_seconds: stats?.process.event_loop_lag_seconds ?? null,
    },
    exporter: {
      uptime_seconds: src.uptimeSeconds,
      events_received: src.decoder.receivedTotal,
      events_rejected: src.decoder.rejectedTotal,
      events_dropped: domain.droppedTotal,
      last_event_age_seconds: lastEventAt ? (src.now - lastEventAt) / 1000 : null,
    },
  };
}
