import { DomainAggregator } from './aggregate/domainAggregator.ts';
import { RequestAggregator } from './aggregate/requestAggregator.ts';
import { type ExporterConfig, healthThresholds, responseTimeBounds } from './config.ts';
import { createProcessRegistries, renderExposition } from './exposition.ts';
import { computeHealth, FACTORS, type HealthReport } from './health/healthScore.ts';
import { takeSnapshot } from './health/snapshot.ts';
import { LiveHistory } from './history.ts';
import { buildLive } from './live.ts';
import { CollectedFamily, type ExpositionFormat, type Family } from './metrics/families.ts';
import { downloaderFamilies, redisFamilies } from './metrics/polledFamilies.ts';
import { Pipeline } from './pipeline.ts';
import { createDownloaderPoller } from './pollers/downloaderPoller.ts';
import { PollMetrics } from './pollers/poller.ts';
import { createRedisPoller } from './pollers/redisPoller.ts';
import { SocketReceiver } from './receivers/socketReceiver.ts';
import { StreamReceiver } from './receivers/streamReceiver.ts';

export interface ExporterDeps {
  config: ExporterConfig;
  now?: () => number;
  log?: (message: string) => void;
}

export type Exporter = ReturnType<typeof createExporter>;

/** Wires receivers -> pipeline -> aggregators, pollers and the health score. Owns no HTTP, reads no environment. */
export function createExporter(deps: ExporterDeps) {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const windowMs = config.HEALTH_WINDOW * 1000;
  const requests = new RequestAggregator({
    bounds: responseTimeBounds(config.APDEX_T_S, config.SLO_LATENCY_S),
    seriesLimit: config.SERIES_LIMIT,
    apdexT: config.APDEX_T_S,
    slots: Math.max(30, Math.ceil(windowMs / 10_000)),
  });
  const domain = new DomainAggregator();
  const pipeline = new Pipeline({ requests, domain, now });
  const socket =
    config.EVENTS_TRANSPORT === 'socket'
      ? new SocketReceiver({
          path: config.EVENTS_SOCKET,
          mode: config.EVENTS_SOCKET_MODE,
          onLine: (bytes, start, end) => pipeline.handleLine(bytes, start, end, 'socket'),
          onTooLong: () => pipeline.reject('too_long'),
        })
      : undefined;
  const stream =
    config.EVENTS_TRANSPORT === 'redis'
      ? new StreamReceiver({
          url: config.REDIS_URL as string,
          stream: config.EVENTS_STREAM,
          group: config.EVENTS_GROUP,
          consumer: config.EVENTS_CONSUMER,
          onLine: (bytes, start, end) => pipeline.handleLine(bytes, start, end, 'redis'),
          log: deps.log,
        })
      : undefined;
  const pollMetrics = new PollMetrics();
  const intervalMs = config.POLL_INTERVAL_S * 1000;
  const downloader = createDownloaderPoller({
    url: config.DOWNLOADER_STATS_URL as string,
    intervalMs,
    metrics: pollMetrics,
    now,
    log: deps.log,
  });
  const redis = config.REDIS_URL
    ? createRedisPoller({
        url: config.REDIS_URL,
        intervalMs,
        metrics: pollMetrics,
        log: deps.log,
        ...(stream ? { stream: config.EVENTS_STREAM, group: config.EVENTS_GROUP } : {}),
      })
    : undefined;
  const thresholds = healthThresholds(config);
  const sources = {
    requests,
    dropped: domain.droppedRecent,
    eventLag: pipeline.recentDelay,
    downloader,
    redis: redis?.poller,
    windowMs,
  };
  const health = (): HealthReport => computeHealth(takeSnapshot(sources, now()), thresholds);
  // One scrape reads the score three times (score, penalties, Apdex): compute it once per scrape.
  let scraped: HealthReport | undefined;
  const scrapeHealth = (): HealthReport => {
    scraped ??= health();
    return scraped;
  };
  const registries = createProcessRegistries('exporter_');
  const uptimeSeconds = () => (now() - startedAt) / 1000;

  const self = (name: string, help: string, value: () => number | undefined, type: 'gauge' | 'counter' = 'gauge') =>
    new CollectedFamily(
      name,
      help,
      [],
      () => {
        const v = value();
        return v === undefined ? [] : [[[], v]];
      },
      type,
    );
  const downloaderUptime = () => {
    if (downloader.up && downloader.value) return downloader.value.uptime_seconds;
    return domain.lastHello ? (now() - domain.lastHello.started_at) / 1000 : undefined;
  };
  const healthFamilies: Family[] = [
    self(
      'downloader_health_score',
      'Health score 0-100 over HEALTH_WINDOW (0 when the downloader is unreachable).',
      () => scrapeHealth().overall_score,
    ),
    new CollectedFamily('downloader_health_factor_penalty', 'Points each factor takes off the health score.', ['factor'], () => {
      const r = scrapeHealth();
      return FACTORS.map((f) => [[f], r.factors[f].penalty] as const);
    }),
    self(
      'downloader_apdex',
      'Apdex over HEALTH_WINDOW with T = APDEX_T_S (absent without traffic).',
      () => scrapeHealth().factors.apdex.value ?? undefined,
    ),
  ];
  const families: Family[] = [
    ...requests.families,
    ...domain.families,
    self('downloader_uptime_seconds', 'Seconds since the downloader started.', downloaderUptime),
    ...downloaderFamilies(downloader),
    ...(redis ? redisFamilies(redis.poller) : []),
    ...healthFamilies,
    ...pipeline.families,
    ...pollMetrics.families,
    self(
      'exporter_series_overflow_total',
      'Request events folded into the __overflow__ series by the cardinality cap.',
      () => requests.overflowed,
      'counter',
    ),
    self('exporter_series_expired_total', 'Request series removed after SERIES_TTL unseen.', () => requests.expired, 'counter'),
    self('exporter_request_series', 'Live (endpoint, method) request series.', () => requests.seriesCount),
    self('exporter_series_limit', 'Cap on (endpoint, method) request series.', () => config.SERIES_LIMIT),
    self('exporter_socket_connections', 'Emitters connected to the event socket.', () => socket?.connections ?? 0),
    self('exporter_last_event_age_seconds', 'Seconds since the last valid event.', () =>
      domain.lastEventAt ? (now() - domain.lastEventAt) / 1000 : undefined,
    ),
  ];
  const live = () =>
    buildLive({ now: now(), uptimeSeconds: uptimeSeconds(), requests, domain, pipeline, downloader, redis: redis?.poller });
  const history = new LiveHistory(
    {
      now,
      live,
      health: () => health().overall_score,
      counters: () => ({
        statusClasses: requests.statusClassTotals(),
        cache: domain.cacheTotals(),
        received: pipeline.receivedTotal,
        rejected: pipeline.rejectedTotal,
        dropped: domain.droppedTotal,
      }),
      upstreamP95: () => {
        const w = domain.upstreamRecent.window(60_000, now()).sketch;
        return w.count ? w.quantile(0.95) : null;
      },
      latency: () => {
        const w = requests.windowTotals(60_000, now()).sketch;
        return w.count ? { p50: w.quantile(0.5), p90: w.quantile(0.9), p95: w.quantile(0.95), p99: w.quantile(0.99) } : null;
      },
    },
    config.DASHBOARD_SAMPLE_S * 1000,
  );
  const sweeper = setInterval(() => requests.sweep(now(), config.SERIES_TTL * 1000), 30_000);
  sweeper.unref();

  return {
    config,
    pipeline,
    requests,
    domain,
    downloader,
    redis: redis?.poller,
    startedAt,
    now,
    uptimeSeconds,
    health,
    live,
    history,
    ready: () => (socket ? socket.listening : stream ? stream.connected : true),
    render: (format: ExpositionFormat) => {
      scraped = undefined;
      return renderExposition(families, registries, format);
    },
    async start(): Promise<void> {
      await socket?.start();
      await stream?.start();
      downloader.start();
      redis?.poller.start();
      history.start();
    },
    async stop(): Promise<void> {
      clearInterval(sweeper);
      history.stop();
      downloader.stop();
      await redis?.close();
      await socket?.close();
      await stream?.close();
    },
  };
}
