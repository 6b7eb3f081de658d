import type { Aggregator } from '../aggregate/aggregator.ts';
import type { Clock } from '../clock.ts';
import type { HealthReport } from '../health/healthScore.ts';
import type { LineDecoder } from '../ingest/lineDecoder.ts';
import type { Polling } from '../poll/polling.ts';
import { type HistoryPoint, LiveHistory } from './history.ts';
import { buildLive, type LiveView } from './live.ts';
import { type PerformanceView, performanceView } from './performance.ts';

export interface ViewSources {
  aggregator: Aggregator;
  decoder: LineDecoder;
  polling: Polling;
  health: () => HealthReport;
  clock: Clock;
  sampleMs: number;
}

/** The JSON views of the HTTP surface; `history` samples `live` on the clock once started. */
export interface Views {
  performance(): PerformanceView;
  health(): HealthReport;
  live(): LiveView;
  history(since: number): { interval_seconds: number; points: HistoryPoint[] };
}

/** The views stage: JSON read from the aggregators, the polls and the health score. */
export function createViews(src: ViewSources): Views & { start(): void; stop(): void } {
  const { aggregator, decoder, polling, clock } = src;
  const { requests, domain } = aggregator;
  const startedAt = clock.now();
  const uptime = () => (clock.now() - startedAt) / 1000;
  const live = () =>
    buildLive({
      now: clock.now(),
      uptimeSeconds: uptime(),
      aggregator,
      decoder,
      downloader: polling.downloader,
      redis: polling.redis,
    });
  const quantilesOf = (sketch: ReturnType<typeof requests.windowTotals>['sketch']) =>
    sketch.count
      ? { p50: sketch.quantile(0.5), p90: sketch.quantile(0.9), p95: sketch.quantile(0.95), p99: sketch.quantile(0.99) }
      : null;
  const history = new LiveHistory(
    {
      clock,
      live,
      health: () => src.health().overall_score,
      counters: () => ({
        statusClasses: requests.statusClassTotals(),
        cache: domain.cacheTotals(),
        received: decoder.receivedTotal,
        rejected: decoder.rejectedTotal,
        dropped: domain.droppedTotal,
      }),
      upstreamP95: () => quantilesOf(domain.upstreamRecent.window(60_000, clock.now()).sketch)?.p95 ?? null,
      latency: () => quantilesOf(requests.windowTotals(60_000, clock.now()).sketch),
    },
    src.sampleMs,
  );
  return {
    performance: () => performanceView(requests, clock.now(), uptime()),
    health: src.health,
    live,
    history: (since) => ({ interval_seconds: src.sampleMs / 1000, points: history.since(since) }),
    start: () => history.start(),
    stop: () => history.stop(),
  };
}
