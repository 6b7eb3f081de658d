import { env, loadConfig } from '@dl/shared';

export const exporterEnv = {
  EXPORTER_PORT: env.port(9464),
  EXPORTER_HOST: env.string('127.0.0.1'),
  EVENTS_TRANSPORT: env.oneOf(['socket', 'redis', 'off'] as const, 'socket'),
  EVENTS_SOCKET: env.string('/tmp/downloader-events.sock'),
  EVENTS_SOCKET_MODE: env.fileMode(0o600),
  SERIES_LIMIT: env.int(1000, 1, 100_000),
  SERIES_TTL: env.seconds(900, 1, 7 * 86_400),
  APDEX_T_S: env.seconds(0.5, 0.001, 60),
  SLO_LATENCY_S: env.seconds(1, 0.001, 600),
  METRICS_TOKEN: env.optionalString(),
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
