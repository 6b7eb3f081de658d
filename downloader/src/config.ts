import { availableParallelism, hostname } from 'node:os';
import { env, loadConfig } from '@dl/shared';

export const downloaderEnv = {
  PORT: env.port(8000),
  HOST: env.string('0.0.0.0'),
  ADMIN_PORT: env.port(8001),
  ADMIN_HOST: env.string('127.0.0.1'),
  EVENTS_TRANSPORT: env.oneOf(['socket', 'redis', 'off'] as const, 'socket'),
  EVENTS_SOCKET: env.string('/tmp/downloader-events.sock'),
  EVENTS_STREAM: env.string('downloader:events'),
  EVENTS_STREAM_MAXLEN: env.int(100_000, 1_000, 100_000_000),
  REDIS_URL: env.url(undefined, ['redis', 'rediss']),
  EVENTS_BUFFER_EVENTS: env.int(10_000, 1, 10_000_000),
  EVENTS_BUFFER_BYTES: env.int(1024 * 1024, 1024, 1024 * 1024 * 1024),
  EVENTS_DROP_REPORT_S: env.seconds(10, 0.05, 3600),
  EVENTS_FLUSH_MS: env.int(20, 1, 1000),
  INSTANCE: env.string(hostname()),
  DOWNLOADER_ALLOW_PRIVATE: env.flag(),
  DOWNLOADER_KEY: env.optionalString(),
  WEBHOOK_SECRET: env.optionalString(),
  CHROMIUM_PATH: env.string('/usr/bin/chromium'),
  PDF_TIMEOUT_S: env.seconds(30, 1, 300),
  JOB_TTL_S: env.seconds(86_400, 60, 30 * 86_400),
  CACHE_TTL_S: env.seconds(3600, 1, 30 * 86_400),
  CACHE_MAX_BYTES: env.int(64 * 1024 * 1024, 0, 16 * 1024 * 1024 * 1024),
  WEBHOOK_RETRY_BASE_S: env.seconds(1, 0.01, 60),
  // As the original service: 2 x cores (max 12) PDF renders, 8 x cores (max 50) batch downloads.
  PDF_CONCURRENCY: env.int(Math.min(2 * availableParallelism(), 12), 1, 256),
  BATCH_CONCURRENCY: env.int(Math.min(8 * availableParallelism(), 50), 1, 1024),
};

export type DownloaderConfig = ReturnType<typeof loadDownloaderConfig>;

export function loadDownloaderConfig(source: Record<string, string | undefined>) {
  return loadConfig(downloaderEnv, source);
}
