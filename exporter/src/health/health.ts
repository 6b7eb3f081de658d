import type { Aggregator } from '../aggregate/aggregator.ts';
import { type ExporterConfig, healthThresholds } from '../config.ts';
import type { LineDecoder } from '../ingest/lineDecoder.ts';
import type { Polling } from '../poll/polling.ts';
import { computeHealth, type HealthReport } from './healthScore.ts';
import { takeSnapshot } from './snapshot.ts';

export interface HealthSources {
  config: ExporterConfig;
  aggregator: Aggregator;
  decoder: LineDecoder;
  polling: Polling;
  now: () => number;
}

/** The health stage: the score of the configured window, computed afresh on each call. */
export function createHealth({ config, aggregator, decoder, polling, now }: HealthSources): () => HealthReport {
  const sources = {
    downloader: polling.downloader,
    redis: polling.redis,
    requests: aggregator.requests,
    dropped: aggregator.domain.droppedRecent,
    fetches: aggregator.domain.fetchesRecent,
    eventLag: decoder.recentDelay,
    windowMs: config.HEALTH_WINDOW * 1000,
  };
  const thresholds = healthThresholds(config);
  return () => computeHealth(takeSnapshot(sources, now()), thresholds);
}
