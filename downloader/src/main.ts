import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, createRedisClient, exitWith, loadConfigOrExit } from '@dl/shared';
import { serve } from '@hono/node-server';
import { createAdminApp } from './admin.ts';
import { createApp } from './app.ts';
import { type ContentCache, cacheLayer, MemoryCache, RedisCache } from './cache/cache.ts';
import { answerClientErrors } from './clientErrors.ts';
import { loadDownloaderConfig } from './config.ts';
import { ConvertPool } from './content/convertPool.ts';
import type { Converter } from './content/render.ts';
import { createErrorLog } from './errorLog.ts';
import { JobRunner } from './jobs/jobRunner.ts';
import { MemoryJobStore, RedisJobStore } from './jobs/jobStore.ts';
import { deliverWebhook } from './jobs/webhook.ts';
import { PdfRenderer } from './pdf/pdfRenderer.ts';
import { createProcessSampler } from './processStats.ts';
import { RateLimits } from './rateLimit.ts';
import { Semaphore } from './semaphore.ts';
import { withRequestContext } from './telemetry/accessLog.ts';
import { timedResponses } from './telemetry/requestTiming.ts';
import { createTelemetry } from './telemetry/telemetry.ts';
import { createTracing } from './telemetry/tracing.ts';
import { UpstreamClient } from './upstream/client.ts';
import { VERSION } from './version.ts';

const config = loadConfigOrExit('downloader', () => loadDownloaderConfig(process.env));
const log = createLogger('downloader', config.LOG_LEVEL);
const warn = (message: string) => log.warn(message);

const startedAt = Date.now();
const telemetry = createTelemetry({ config, version: VERSION, startedAt, log: warn });
const sampler = createProcessSampler();
const pools = {
  pdf: new Semaphore(config.PDF_CONCURRENCY, config.PDF_QUEUE_MAX),
  batch: new Semaphore(config.BATCH_CONCURRENCY, config.BATCH_QUEUE_MAX),
};
const upstream = new UpstreamClient({
  allowPrivate: config.DOWNLOADER_ALLOW_PRIVATE,
  headersTimeoutMs: config.FETCH_HEADERS_TIMEOUT_S * 1000,
  bodyTimeoutMs: config.FETCH_BODY_TIMEOUT_S * 1000,
  emit: telemetry.emit,
});
const store = config.REDIS_URL
  ? new RedisJobStore(config.REDIS_URL, config.JOB_TTL_S * 1000)
  : new MemoryJobStore(config.JOB_TTL_S * 1000);
const contentCache: ContentCache = config.REDIS_URL
  ? new RedisCache(config.REDIS_URL, config.CACHE_TTL_S * 1000)
  : new MemoryCache(config.CACHE_MAX_BYTES, config.CACHE_TTL_S * 1000);
const pdf = new PdfRenderer({
  executablePath: config.CHROMIUM_PATH,
  pool: pools.pdf,
  policy: upstream.policy,
  timeoutMs: config.PDF_TIMEOUT_S * 1000,
  emit: telemetry.emit,
});
const secret = config.WEBHOOK_SECRET;
const webhook = secret
  ? (url: string, payload: unknown, requestId?: string) =>
      deliverWebhook(url, payload, {
        upstream,
        secret,
        emit: telemetry.emit,
        baseDelayMs: config.WEBHOOK_RETRY_BASE_S * 1000,
        requestId,
      })
  : undefined;
const limitStore = config.RATELIMIT_STORAGE_URI ?? config.REDIS_URL;
const limitRedis = config.RATELIMIT_ENABLED && limitStore ? createRedisClient(limitStore, { commandTimeoutMs: 500 }) : undefined;
const limits = config.RATELIMIT_ENABLED
  ? new RateLimits({
      rates: {
        status: config.RATELIMIT_STATUS_LIMIT,
        download: config.RATELIMIT_DOWNLOAD_LIMIT,
        batch: config.RATELIMIT_BATCH_LIMIT,
        default: config.RATELIMIT_DEFAULT_LIMIT,
      },
      redis: limitRedis,
      headers: config.RATELIMIT_HEADERS_ENABLED,
    })
  : undefined;
const tracing = config.OTEL_EXPORTER_OTLP_ENDPOINT
  ? createTracing({
      endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: config.OTEL_SERVICE_NAME,
      version: VERSION,
      ratio: config.OTEL_TRACES_SAMPLER_ARG,
      batchDelayMs: config.OTEL_BSP_SCHEDULE_DELAY,
    })
  : undefined;
const converter = new ConvertPool({
  workers: config.CONVERT_WORKERS,
  timeoutMs: config.CONVERT_TIMEOUT_S * 1000,
  heapMb: config.CONVERT_HEAP_MB,
  queueMax: config.CONVERT_QUEUE_MAX,
});
const convert: Converter = (html, url, format, signal) => converter.convert(html, url, format, signal);
const runner = new JobRunner({ store, upstream, pool: pools.batch, emit: telemetry.emit, webhook, convert });
const app = createApp({
  version: VERSION,
  startedAt,
  upstream,
  jobs: {
    runner,
    store,
    webhooks: webhook !== undefined,
    maxBodyBytes: config.BATCH_BODY_MAX_BYTES,
    batchRoom: (n) => pools.batch.hasRoom(n),
    webhookAllowed: (url) => upstream.policy.allows(url),
  },
  apiKey: config.DOWNLOADER_KEY,
  cache: cacheLayer(contentCache, telemetry.recordCache),
  pdf,
  convert,
  limits,
  tracing,
  logError: createErrorLog((message) => log.error(message)),
});
const admin = createAdminApp({
  startedAt,
  version: VERSION,
  transport: config.EVENTS_TRANSPORT,
  ledger: telemetry.ledger,
  process: sampler.sample,
  pools,
  upstream,
  cache: contentCache,
  pdf,
});

telemetry.start();
const fetch = withRequestContext(app.fetch, log, tracing);
// With telemetry on, each response times its request and records it as its headers are written.
const serverOptions = telemetry.enabled ? { ServerResponse: timedResponses(telemetry.recordRequest) } : {};
const server = serve({ fetch, port: config.PORT, hostname: config.HOST, serverOptions }, (info: AddressInfo) => {
  log.info({ url: `http://${config.HOST}:${info.port}`, telemetry: config.EVENTS_TRANSPORT, version: VERSION }, 'listening');
});
const adminServer = serve({ fetch: admin.fetch, port: config.ADMIN_PORT, hostname: config.ADMIN_HOST }, (info) => {
  log.info({ url: `http://${config.ADMIN_HOST}:${info.port}/internal/stats` }, 'admin listening');
});
answerClientErrors(server as Server);
for (const s of [server, adminServer]) {
  s.on('error', (err: NodeJS.ErrnoException) => exitWith('downloader', `cannot listen: ${err.code ?? ''} ${err.message}`));
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping: finishing in-flight requests');
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  if ('closeIdleConnections' in server) server.closeIdleConnections();
  await Promise.race([closed, new Promise((r) => setTimeout(r, config.SHUTDOWN_GRACE_S * 1000))]);
  await upstream.close();
  await contentCache.close();
  await pdf.close();
  await converter.close();
  await store.close();
  limitRedis?.disconnect();
  // The last spans, if the collector takes them within 2 s: a collector that is away never holds the exit.
  if (tracing) await Promise.race([tracing.shutdown().catch(() => {}), new Promise((r) => setTimeout(r, 2_000))]);
  await telemetry.stop(2_000);
  const ledger = telemetry.ledger();
  log.info(
    { emitted: ledger.emitted, acknowledged: ledger.acknowledged, dropped: ledger.dropped, unsent: ledger.buffered },
    'stopped',
  );
  adminServer.close();
  sampler.stop();
  log.flush(() => process.exit(0));
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
