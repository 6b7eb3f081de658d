import { hostname } from 'node:os';
import { env, loadConfig } from '@dl/shared';
import type { HealthThresholds } from './health/healthScore.ts';

export const exporterEnv = {
  EXPORTER_PORT: env.port(9464),
  EXPORTER_HOST: env.string('127.0.0.1'),
  EXPORTER_NICE: env.int(10, 0, 19),
  EVENTS_TRANSPORT: env.oneOf(['socket', 'redis', 'off'] as const, 'socket'),
  EVENTS_SOCKET: env.string('/tmp/downloader-events.sock'),
  EVENTS_SOCKET_MODE: env.fileMode(0o600),
  SERIES_LIMIT: env.int(1000, 1, 100_000),
  SERIES_TTL: env.seconds(900, 1, 7 * 86_400),
  APDEX_T_S: env.seconds(0.5, 0.001, 60),
  SLO_LATENCY_S: env.seconds(1, 0.001, 600),
  METRICS_TOKEN: env.optionalString(),
  DOWNLOADER_STATS_URL: env.url('http://127.0.0.1:8001/internal/stats', ['http', 'https']),
  POLL_INTERVAL_S: env.seconds(5, 0.1, 3600),
  REDIS_URL: env.url(undefined, ['redis', 'rediss']),
  EVENTS_STREAM: env.string('downloader:events'),
  EVENTS_GROUP: env.string('exporter'),
  EVENTS_CONSUMER: env.string(hostname()),
  HEALTH_WINDOW: env.seconds(300, 10, 1800),
  DASHBOARD_SAMPLE_S: env.seconds(5, 0.1, 60),
  HEALTH_ERROR_WARN_PERCENT: env.number(1, 0, 100),
  HEALTH_ERROR_CRITICAL_PERCENT: env.number(5, 0, 100),
  HEALTH_APDEX_WARN: env.number(0.94, 0, 1),
  HEALTH_APDEX_CRITICAL: env.number(0.85, 0, 1),
  HEALTH_SATURATION_WARN_PERCENT: env.number(80, 0, 100),
  HEALTH_SATURATION_CRITICAL_PERCENT: env.number(95, 0, 100),
};

export type ExporterConfig = ReturnType<typeof loadExporterConfig>;

export function loadExporterConfig(source: Record<string, string | undefined>) {
  return loadConfig(exporterEnv, source);
}

const BASE_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60];

/** Response-time bounds: a fixed ladder plus Apdex T, 4T, the latency SLO and 3 s (the seed's P95 alert). */
export function responseTimeBounds(apdexT: number, slo: number): number[] {
  return [...new Set([...BASE_BOUNDS, apdexT, 4 * apdexT, slo, 3])].sort((a, b) => a - b);
}

/** Health thresholds from the configuration (percent variables become shares where the score wants them). */
export function healthThresholds(c: ExporterConfig): HealthThresholds {
  return {
    errorRateWarn: c.HEALTH_ERROR_WARN_PERCENT / 100,
    errorRateCritical: c.HEALTH_ERROR_CRITICAL_PERCENT / 100,
    sloLatencyS: c.SLO_LATENCY_S,
    apdexT: c.APDEX_T_S,
    apdexWarn: c.HEALTH_APDEX_WARN,
    apdexCritical: c.HEALTH_APDEX_CRITICAL,
    saturationWarn: c.HEALTH_SATURATION_WARN_PERCENT,
    saturationCritical: c.HEALTH_SATURATION_CRITICAL_PERCENT,
    lagWarnS: 5,
  };
}
