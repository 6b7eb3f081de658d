import type { DownloaderStats } from '@dl/shared';
import type { FetchWindow } from '../aggregate/fetchWindow.ts';
import type { RequestAggregator } from '../aggregate/requestAggregator.ts';
import type { SlidingSum } from '../aggregate/slidingSum.ts';
import type { WindowedStats } from '../aggregate/windowedStats.ts';
import { componentStates, currentStats, POOLS, utilization } from '../poll/downloaderStats.ts';
import type { Poller } from '../poll/poller.ts';
import type { RedisFigures } from '../poll/redisPoller.ts';
import type { DependencyStates, HealthSnapshot } from './healthScore.ts';

export interface SnapshotSources {
  requests: RequestAggregator;
  dropped: SlidingSum;
  fetches: FetchWindow;
  eventLag: WindowedStats;
  downloader: Poller<DownloaderStats>;
  redis: Poller<RedisFigures> | undefined;
  windowMs: number;
}

/** Gathers what the health score needs from the aggregators and the latest polls. */
export function takeSnapshot(src: SnapshotSources, nowMs: number): HealthSnapshot {
  const traffic = src.requests.windowTotals(src.windowMs, nowMs);
  const stats = currentStats(src.downloader);
  const pools = POOLS.map((p) => stats?.pools?.[p]).filter((p) => p !== undefined);
  const lag = src.eventLag.window(src.windowMs, nowMs).sketch;
  return {
    downloaderUp: src.downloader.reachable,
    windowSeconds: src.windowMs / 1000,
    requests: traffic.sketch.count,
    serviceErrors: traffic.serviceErrors,
    targetErrors: traffic.targetErrors,
    fetches: src.fetches.window(src.windowMs, nowMs),
    p95: traffic.sketch.count ? traffic.sketch.quantile(0.95) : null,
    apdexSatisfied: traffic.satisfied,
    apdexTolerating: traffic.tolerating,
    maxUtilizationPercent: pools.length ? Math.max(...pools.map(utilization)) : null,
    dependencies: dependencies(src, stats),
    droppedInWindow: src.dropped.total(src.windowMs, nowMs),
    eventLagP99S: lag.count ? lag.quantile(0.99) : null,
    now: new Date(nowMs),
  };
}

function dependencies(src: SnapshotSources, stats: DownloaderStats | undefined): DependencyStates {
  if (!stats) return {};
  const seen = componentStates(src.downloader);
  return {
    // The exporter's own view of Redis wins when it polls Redis; else the downloader's view.
    redis: src.redis ? src.redis.up : seen.redis,
    http_client: seen.http_client,
    pdf_browser: seen.pdf_browser,
    circuit_breakers_open: stats.circuit_breakers?.open ?? 0,
  };
}
