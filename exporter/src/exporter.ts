import { Aggregator } from './aggregate/aggregator.ts';
import { DomainAggregator } from './aggregate/domainAggregator.ts';
import { RequestAggregator } from './aggregate/requestAggregator.ts';
import { type Clock, systemClock } from './clock.ts';
import { type ExporterConfig, healthThresholds, responseTimeBounds } from './config.ts';
import { createExposition } from './exposition/exposition.ts';
import type { ExpositionFormat } from './exposition/families.ts';
import { FamilySet } from './exposition/familySet.ts';
import { healthFamilies } from './exposition/healthFamilies.ts';
import { downloaderFamilies, redisFamilies } from './exposition/polledFamilies.ts';
import { PollFamilies } from './exposition/pollFamilies.ts';
import { selfFamilies } from './exposition/selfFamilies.ts';
import { computeHealth } from './health/healthScore.ts';
import { takeSnapshot } from './health/snapshot.ts';
import { createIngest } from './ingest/ingest.ts';
import { createPolling } from './poll/polling.ts';
import { createViews, type Views } from './views/views.ts';

export interface ExporterDeps {
  config: ExporterConfig;
  clock?: Clock;
  log?: (message: string) => void;
}

/** What the HTTP surface sees of the exporter. */
export interface Exporter {
  render(format: ExpositionFormat): Promise<string>;
  /** Every family `render` writes (besides prom-client's process metrics). */
  metrics(): ReturnType<FamilySet['describe']>;
  readonly views: Views;
  ready(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Composes the stages: ingest -> aggregate -> exposition; poll; health; views. Reads no environment. */
export function createExporter({ config, clock = systemClock, log }: ExporterDeps): Exporter {
  const windowMs = config.HEALTH_WINDOW * 1000;
  const requests = new RequestAggregator({
    bounds: responseTimeBounds(config.APDEX_T_S, config.SLO_LATENCY_S),
    seriesLimit: config.SERIES_LIMIT,
    apdexT: config.APDEX_T_S,
    slots: Math.max(30, Math.ceil(windowMs / 10_000)),
  });
  const aggregator = new Aggregator(requests, new DomainAggregator());
  const ingest = createIngest({ config, next: aggregator, clock, log });
  const pollFamilies = new PollFamilies(config.REDIS_URL ? ['downloader', 'redis'] : ['downloader']);
  const polling = createPolling({ config, observer: pollFamilies, clock, log });
  const thresholds = healthThresholds(config);
  const snapshotSources = { requests, dropped: aggregator.domain.droppedRecent, eventLag: ingest.decoder.recentDelay, windowMs };
  const health = () => computeHealth(takeSnapshot({ ...snapshotSources, ...polling }, clock.now()), thresholds);
  const scored = healthFamilies(health);
  const families = new FamilySet().add(
    ...requests.families,
    ...aggregator.domain.families,
    ...downloaderFamilies(polling.downloader),
    ...(polling.redis ? redisFamilies(polling.redis) : []),
    ...scored.families,
    ...ingest.decoder.families,
    ...pollFamilies.families,
    ...selfFamilies({
      aggregator,
      downloader: polling.downloader,
      seriesLimit: config.SERIES_LIMIT,
      socketConnections: ingest.connections,
      now: () => clock.now(),
    }),
  );
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
      stopSweeper = clock.every(30_000, () => requests.sweep(clock.now(), config.SERIES_TTL * 1000));
    },
    async stop() {
      stopSweeper();
      views.stop();
      await polling.stop();
      await ingest.close();
    },
  };
}
