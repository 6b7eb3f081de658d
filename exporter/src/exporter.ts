import { createAggregation } from './aggregate/aggregation.ts';
import { type Clock, systemClock } from './clock.ts';
import type { ExporterConfig } from './config.ts';
import { createExposition } from './exposition/exposition.ts';
import type { ExpositionFormat } from './exposition/families.ts';
import type { FamilySet } from './exposition/familySet.ts';
import { healthFamilies } from './exposition/healthFamilies.ts';
import { metricSet } from './exposition/metricSet.ts';
import { PollFamilies } from './exposition/pollFamilies.ts';
import { createHealth } from './health/health.ts';
import { createIngest } from './ingest/ingest.ts';
import { createPolling } from './poll/polling.ts';
import { createViews, type Views } from './views/views.ts';

export interface ExporterDeps {
  config: ExporterConfig;
  clock?: Clock;
  log?: (message: string) => void;
}

/** What the HTTP surface (and the docs generator) see of the exporter. */
export interface Exporter {
  /** Text for the text formats, bytes for protobuf. */
  render(format: ExpositionFormat): Promise<string | Uint8Array>;
  /** Every family `render` writes (besides prom-client's process metrics). */
  metrics(): ReturnType<FamilySet['describe']>;
  readonly views: Views;
  ready(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Composes the stages: ingest -> aggregate -> exposition; poll; health; views. Reads no environment. */
export function createExporter({ config, clock = systemClock, log }: ExporterDeps): Exporter {
  const now = () => clock.now();
  const aggregator = createAggregation(config);
  const ingest = createIngest({ config, next: aggregator, clock, log });
  const pollFamilies = new PollFamilies(config.REDIS_URL ? ['downloader', 'redis'] : ['downloader']);
  const polling = createPolling({ config, observer: pollFamilies, clock, log });
  const health = createHealth({ config, aggregator, decoder: ingest.decoder, polling, now });
  const scored = healthFamilies(health);
  const families = metricSet({
    aggregator,
    decoder: ingest.decoder,
    polling,
    pollFamilies,
    health: scored.families,
    seriesLimit: config.SERIES_LIMIT,
    ingest,
    now,
  });
  const views = createViews({
    aggregator,
    decoder: ingest.decoder,
    polling,
    health,
    clock,
    sampleMs: config.DASHBOARD_SAMPLE_S * 1000,
  });
  let stopSweeper = () => {};
  return {
    render: createExposition(families, scored.newScrape),
    metrics: () => families.describe(),
    views,
    ready: ingest.ready,
    async start() {
      await ingest.start();
      polling.start();
      views.start();
      stopSweeper = clock.every(30_000, () => aggregator.requests.sweep(now(), config.SERIES_TTL * 1000));
    },
    async stop() {
      stopSweeper();
      views.stop();
      await polling.stop();
      await ingest.close();
    },
  };
}
