import { availableParallelism, hostname } from 'node:os';
import {
  BINARY_ENCODING,
  type ConfigCheck,
  type ConfigOf,
  env,
  loadConfig,
  logEnv,
  transportChecks,
  transportEnv,
  typicalRequestBytes,
} from '@dl/shared';

const cores = availableParallelism();

/** Every variable the downloader reads, with its default and meaning (docs/configuration.md is generated from this). */
export const downloaderEnv = {
  PORT: env.port(8000).about('public API port'),
  HOST: env.string('0.0.0.0').about('public bind address'),
  ADMIN_PORT: env.port(8001).about('admin listener (`/internal/stats`)'),
  ADMIN_HOST: env.string('127.0.0.1').about('admin bind address; keep it private'),
  ...transportEnv,
  ...logEnv,
  EVENTS_STREAM_MAXLEN: env.int(100_000, 1_000, 100_000_000).about('approximate cap on the stream (`XADD MAXLEN ~`)'),
  EVENTS_BUFFER_EVENTS: env.int(50_000, 1, 10_000_000).about('emitter buffer cap in events (unacknowledged included)'),
  EVENTS_BUFFER_BYTES: env.int(8 * 1024 * 1024, 1024, 1024 * 1024 * 1024).about('emitter buffer cap in bytes'),
  EVENTS_DROP_REPORT_S: env.seconds(10, 0.05, 3600).about('how often drops are reported in a `dropped` event while they happen'),
  EVENTS_FLUSH_MS: env
    .int(50, 1, 1000)
    .about('longest an event waits before the emitter writes its batch (a batch that reaches 64 KiB goes at once)'),
  EVENTS_ENCODING: env
    .oneOf(['binary', 'ndjson'] as const, 'binary')
    .about('how events cross the socket: compact binary frames, or NDJSON lines (the Redis stream always carries NDJSON)'),
  EVENTS_PEAK_RATE: env
    .int(100_000, 1, 10_000_000)
    .about(
      'events a second the buffer must absorb at peak: start-up refuses a buffer under 2 x this x (`EVENTS_FLUSH_MS` + `EVENTS_ACK_MS`)',
    ),
  INSTANCE: env.string(hostname()).about('instance name in `hello` events', 'the host name'),
  DOWNLOADER_ALLOW_PRIVATE: env.flag().about('`1` lifts the SSRF refusal of private addresses (local testing only)'),
  DOWNLOADER_KEY: env.secret().about('when set, every route but `/health` needs `Authorization: Bearer` or `X-API-Key`'),
  WEBHOOK_SECRET: env.secret().about('HMAC-SHA256 key for webhook signatures; without it `webhook_url` is refused'),
  FETCH_HEADERS_TIMEOUT_S: env
    .seconds(15, 0.1, 300)
    .about("longest wait for a target's response headers; past it: 504 `upstream_timeout`"),
  FETCH_BODY_TIMEOUT_S: env.seconds(30, 0.1, 600).about("longest pause while a target's body streams in"),
  CHROMIUM_PATH: env.string('/usr/bin/chromium').about('the browser for PDF output; without one PDF answers 503'),
  PDF_TIMEOUT_S: env.seconds(30, 1, 300).about('longest a PDF render may take'),
  SHUTDOWN_GRACE_S: env
    .seconds(10, 0, 600)
    .about('on SIGTERM, how long in-flight requests may take to finish before the downloader exits anyway'),
  JOB_TTL_S: env.seconds(86_400, 60, 30 * 86_400).about('how long finished jobs are kept'),
  CACHE_TTL_S: env.seconds(3600, 1, 30 * 86_400).about('how long a rendering stays cached'),
  CACHE_MAX_BYTES: env.int(64 * 1024 * 1024, 0, 16 * 1024 * 1024 * 1024).about('in-memory cache bound (without `REDIS_URL`)'),
  BATCH_BODY_MAX_BYTES: env
    .int(1024 * 1024, 1024, 64 * 1024 * 1024)
    .about('largest `POST /batch` body; a larger one is refused with 413 while it is read'),
  WEBHOOK_RETRY_BASE_S: env.seconds(1, 0.01, 60).about('first webhook retry delay; doubles per attempt (5 attempts)'),
  // As the original service: 2 x cores (max 12) PDF renders, 8 x cores (max 50) batch downloads.
  CONVERT_WORKERS: env.int(1, 1, 64).about('worker threads turning HTML into text or Markdown, off the request thread'),
  CONVERT_TIMEOUT_S: env
    .seconds(10, 0.1, 600)
    .about(
      'longest one page may take to become text or Markdown; past it the worker is stopped and the answer is 422 `unconvertible_content`',
    ),
  CONVERT_QUEUE_MAX: env
    .int(32, 0, 100_000)
    .about('pages that may wait for a conversion worker; past it: 503 `queue_full` with `Retry-After`'),
  CONVERT_HEAP_MB: env
    .int(256, 32, 16_384)
    .about(
      'heap bound of each conversion worker, in MiB (256 holds the DOM of about 3.5 MB of HTML, inside the Kubernetes limit of 1 GiB beside Chromium); a page that needs more is answered 422 `unconvertible_content`',
    ),
  PDF_CONCURRENCY: env.int(Math.min(2 * cores, 12), 1, 256).about('PDF pool size', '2 x cores, at most 12'),
  PDF_QUEUE_MAX: env
    .int(32, 0, 100_000)
    .about('PDF renders that may wait for a slot; past it: 503 `queue_full` with `Retry-After`'),
  BATCH_QUEUE_MAX: env
    .int(1000, 0, 1_000_000)
    .about('batch fetches that may wait for a slot; a job that would pass it is refused at submit with 503 `queue_full`'),
  BATCH_CONCURRENCY: env.int(Math.min(8 * cores, 50), 1, 1024).about('batch pool size', '8 x cores, at most 50'),
  // Tracing: the OpenTelemetry variables' own names and meanings.
  OTEL_EXPORTER_OTLP_ENDPOINT: env
    .optionalUrl(['http', 'https'])
    .about(
      'an OTLP/HTTP collector (`http://otel-collector:4318`): set, the downloader exports its spans to `<endpoint>/v1/traces`',
    ),
  OTEL_SERVICE_NAME: env.string('downloader').about('`service.name` of the exported spans'),
  OTEL_TRACES_SAMPLER_ARG: env
    .number(1, 0, 1)
    .about("share of new traces kept (a request with a caller's `traceparent` follows the caller's decision)"),
  OTEL_BSP_SCHEDULE_DELAY: env.int(5000, 10, 60_000).about('milliseconds spans wait to leave in one batch'),
  // The original service's rate limits, names and defaults.
  RATELIMIT_ENABLED: env.flag(true).about('`0` turns request-rate limits off'),
  RATELIMIT_STATUS_LIMIT: env.rate('200/minute').about('budget of `GET /health` per client'),
  RATELIMIT_DOWNLOAD_LIMIT: env.rate('60/minute').about('budget of `GET /{url}` per client'),
  RATELIMIT_BATCH_LIMIT: env.rate('20/minute').about('budget of `POST /batch` per client'),
  RATELIMIT_DEFAULT_LIMIT: env.rate('100/minute').about('budget of every other route (the job routes) per client'),
  RATELIMIT_STORAGE_URI: env
    .optionalUrl(['redis', 'rediss'])
    .about('Redis the replicas share their budgets in; default `REDIS_URL`; without either each process counts alone'),
  RATELIMIT_HEADERS_ENABLED: env
    .flag(true)
    .about('`0` leaves out `X-RateLimit-*`, `RateLimit` and `RateLimit-Policy` (a 429 keeps `Retry-After`)'),
};

export type DownloaderConfig = ReturnType<typeof loadDownloaderConfig>;

const downloaderChecks: readonly ConfigCheck<ConfigOf<typeof downloaderEnv>>[] = [
  ...transportChecks,
  bufferCheck,
  (c) =>
    c.PORT === c.ADMIN_PORT
      ? `ADMIN_PORT=${c.ADMIN_PORT} is also PORT: the admin listener must never share the public port`
      : undefined,
];

/**
 * The emitter keeps every event until it is acknowledged: up to a flush interval waiting to be
 * written plus an acknowledgement delay. Twice what arrives in that time at the peak rate must fit,
 * or acknowledgements alone would make it drop at full load.
 */
function bufferCheck(c: ConfigOf<typeof downloaderEnv>): string | undefined {
  if (c.EVENTS_TRANSPORT === 'off') return undefined;
  const events = Math.ceil((2 * c.EVENTS_PEAK_RATE * (c.EVENTS_FLUSH_MS + c.EVENTS_ACK_MS)) / 1000);
  const why = `2 x EVENTS_PEAK_RATE x (EVENTS_FLUSH_MS + EVENTS_ACK_MS)`;
  if (c.EVENTS_BUFFER_EVENTS < events) return `EVENTS_BUFFER_EVENTS=${c.EVENTS_BUFFER_EVENTS} is under ${why} = ${events} events`;
  const binary = c.EVENTS_TRANSPORT === 'socket' && c.EVENTS_ENCODING === 'binary';
  const bytes = events * typicalRequestBytes(binary ? BINARY_ENCODING : 'ndjson');
  if (c.EVENTS_BUFFER_BYTES < bytes)
    return `EVENTS_BUFFER_BYTES=${c.EVENTS_BUFFER_BYTES} is under ${why} = ${events} request events of ${bytes / events} bytes = ${bytes} bytes`;
  return undefined;
}

export function loadDownloaderConfig(source: Record<string, string | undefined>) {
  return loadConfig(downloaderEnv, source, downloaderChecks);
}
