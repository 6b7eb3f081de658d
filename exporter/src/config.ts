import { hostname } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { env, loadConfig, logEnv, transportChecks, transportEnv } from '@dl/shared';
import type { HealthThresholds } from './health/healthScore.ts';

/** HEALTH_WINDOW's longest: the rings behind the health score hold this much. */
export const HEALTH_WINDOW_MAX_S = 1800;

/** Every variable the exporter reads, with its default and meaning (docs/configuration.md is generated from this). */
export const exporterEnv = {
  EXPORTER_PORT: env.port(9464).about('exporter HTTP port'),
  EXPORTER_HOST: env.string('127.0.0.1').about('exporter bind address (`0.0.0.0` in containers)'),
  EXPORTER_NICE: env.int(10, 0, 19).about('niceness the exporter gives itself, so the downloader wins a shared core'),
  ...transportEnv,
  ...logEnv,
  EVENTS_SOCKET_MODE: env.fileMode(0o600).about('file mode of the socket the exporter creates'),
  EVENTS_GARBAGE_BYTES_PER_S: env
    .int(262_144, 0, 1_073_741_824)
    .about(
      'per socket connection, bytes of rejected input a second before its reading pauses until the second is over (`0`: no limit)',
    ),
  EVENTS_GROUP: env.string('exporter').about('Redis stream consumer group'),
  EVENTS_CONSUMER: env
    .string(hostname())
    .about('consumer name in the group; keep it stable across restarts so pending entries are re-read', 'the host name'),
  SERIES_LIMIT: env
    .int(1000, 1, 100_000)
    .about(
      'cap on (endpoint, method) request series; past it: `endpoint="__overflow__"`. About 8 KiB of heap each: past about 8,000, raise `--max-old-space-size` (the start-up check says how far)',
    ),
  SERIES_TTL: env.seconds(900, 1, 7 * 86_400).about('request series unseen this long are removed'),
  APDEX_T_S: env.seconds(0.5, 0.001, 60).about('Apdex T: satisfied at or under T, tolerating under 4T'),
  SLO_LATENCY_S: env.seconds(1, 0.001, 600).about('latency target: the health score judges p95 against it'),
  METRICS_TOKEN: env.secret().about('when set, every exporter route but the probes needs `Authorization: Bearer <token>`'),
  DOWNLOADER_STATS_URL: env
    .url('http://127.0.0.1:8001/internal/stats', ['http', 'https'])
    .about("the downloader's admin stats, polled"),
  SCRAPE_REUSE_MS: env
    .int(250, 0, 60_000)
    .about('a rendered `/metrics` or JSON view answers every request for this long; concurrent requests always share one render'),
  POLL_INTERVAL_S: env.seconds(5, 0.1, 3600).about('how often the downloader and Redis are polled'),
  HEALTH_WINDOW: env.seconds(300, 10, HEALTH_WINDOW_MAX_S).about('the window the health score judges'),
  DASHBOARD_SAMPLE_S: env.seconds(5, 0.1, 60).about("how often /dashboard's history is sampled (360 points kept)"),
  HEALTH_MIN_REQUESTS: env
    .int(20, 1, 1_000_000)
    .about('fewer requests in the window: the error-rate, latency, Apdex and targets factors say `insufficient_data`'),
  HEALTH_CONFIDENCE_Z: env
    .number(1.96, 0, 10)
    .about('shares are judged by their Wilson score bound at this z (1.96: 95 % confidence; 0: the plain share)'),
  HEALTH_ERROR_WARN_PERCENT: env.number(1, 0, 100).about("error-rate factor: warn above this share of the service's own errors"),
  HEALTH_ERROR_CRITICAL_PERCENT: env.number(5, 0, 100).about('error-rate factor: full penalty at this share'),
  HEALTH_APDEX_WARN: env.number(0.94, 0, 1).about('Apdex factor: warn below'),
  HEALTH_APDEX_CRITICAL: env.number(0.85, 0, 1).about('Apdex factor: full penalty at or below'),
  HEALTH_SATURATION_WARN_PERCENT: env.number(80, 0, 100).about('saturation factor: warn above this pool utilisation'),
  HEALTH_SATURATION_CRITICAL_PERCENT: env.number(95, 0, 100).about('saturation factor: full penalty at'),
  HEALTH_EVENT_LAG_WARN_S: env
    .seconds(5, 0.01, 3600)
    .about('telemetry factor: events arriving later than this (p99) count as lag'),
  HEALTH_TARGETS_WARN_PERCENT: env
    .number(10, 0, 100)
    .about('targets factor: warn above this share of requests whose target failed'),
  HEALTH_TARGETS_CRITICAL_PERCENT: env.number(50, 0, 100).about('targets factor: critical at this share'),
  HEALTH_TARGETS_MAX_PENALTY: env
    .number(0, 0, 100)
    .about("targets factor: points it may take (0: it informs only; a dead link is not the service's fault)"),
  HEALTH_EGRESS_MIN_HOSTS: env
    .int(5, 1, 100_000)
    .about('egress check: fetches to at least this many distinct hosts failing by network error or timeout...'),
  HEALTH_EGRESS_FAILURE_PERCENT: env
    .number(50, 0, 100)
    .about('...and at least this share of all fetches in the window: a `dependencies` penalty (our network or DNS)'),
};

export type ExporterConfig = ReturnType<typeof loadExporterConfig>;

/**
 * Heap the exporter needs: about 32 MiB of its own, plus about 8 KiB per request series (measured by
 * filling 10,000 series: +74 MiB). The process runs with a capped heap (scripts/nodeFlags.mjs, the
 * image's CMD), which keeps garbage from growing its memory; a SERIES_LIMIT the cap cannot hold is
 * refused at start rather than found by the OOM killer.
 */
const HEAP_BASE_BYTES = 32 * 2 ** 20;
const HEAP_PER_SERIES_BYTES = 8 * 1024;

export function loadExporterConfig(
  source: Record<string, string | undefined>,
  heapLimitBytes = getHeapStatistics().heap_size_limit,
) {
  return loadConfig(exporterEnv, source, [
    ...transportChecks,
    (c) => {
      const needed = HEAP_BASE_BYTES + c.SERIES_LIMIT * HEAP_PER_SERIES_BYTES;
      return needed > heapLimitBytes
        ? `SERIES_LIMIT=${c.SERIES_LIMIT} needs about ${Math.ceil(needed / 2 ** 20)} MiB of heap and the heap limit is ${Math.floor(heapLimitBytes / 2 ** 20)} MiB; lower it or raise --max-old-space-size`
        : undefined;
    },
  ]);
}

const BASE_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60];

/** Response-time bounds: a fixed ladder plus Apdex T, 4T, the latency SLO and 3 s (the seed's P95 alert). */
export function responseTimeBounds(apdexT: number, slo: number): number[] {
  return [...new Set([...BASE_BOUNDS, apdexT, 4 * apdexT, slo, 3])].sort((a, b) => a - b);
}

/** Health thresholds from the configuration (percent variables become shares where the score wants them). */
export function healthThresholds(c: ExporterConfig): HealthThresholds {
  return {
    minRequests: c.HEALTH_MIN_REQUESTS,
    confidenceZ: c.HEALTH_CONFIDENCE_Z,
    errorRateWarn: c.HEALTH_ERROR_WARN_PERCENT / 100,
    errorRateCritical: c.HEALTH_ERROR_CRITICAL_PERCENT / 100,
    sloLatencyS: c.SLO_LATENCY_S,
    apdexT: c.APDEX_T_S,
    apdexWarn: c.HEALTH_APDEX_WARN,
    apdexCritical: c.HEALTH_APDEX_CRITICAL,
    saturationWarn: c.HEALTH_SATURATION_WARN_PERCENT,
    saturationCritical: c.HEALTH_SATURATION_CRITICAL_PERCENT,
    lagWarnS: c.HEALTH_EVENT_LAG_WARN_S,
    targetsWarn: c.HEALTH_TARGETS_WARN_PERCENT / 100,
    targetsCritical: c.HEALTH_TARGETS_CRITICAL_PERCENT / 100,
    targetsMaxPenalty: c.HEALTH_TARGETS_MAX_PENALTY,
    egressMinHosts: c.HEALTH_EGRESS_MIN_HOSTS,
    egressFailureShare: c.HEALTH_EGRESS_FAILURE_PERCENT / 100,
  };
}
