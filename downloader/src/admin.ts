import { Hono } from 'hono';
import { type ContentCache, RedisCache } from './cache/cache.ts';
import type { PdfRenderer } from './pdf/pdfRenderer.ts';
import type { ProcessFigures } from './processStats.ts';
import type { Semaphore } from './semaphore.ts';
import type { EmitterLedger } from './telemetry/emitter.ts';
import type { UpstreamClient } from './upstream/client.ts';

export interface AdminDeps {
  startedAt: number;
  version: string;
  transport: string;
  ledger: () => EmitterLedger;
  process: () => ProcessFigures;
  pools: { pdf: Semaphore; batch: Semaphore };
  upstream?: UpstreamClient;
  cache?: ContentCache;
  pdf?: PdfRenderer;
  now?: () => number;
}

/** The admin listener: stats for the exporter's poller. Served on 127.0.0.1 only, never timed. */
export function createAdminApp(deps: AdminDeps): Hono {
  const now = deps.now ?? Date.now;
  const app = new Hono();
  app.get('/internal/stats', (c) =>
    c.json({
      version: deps.version,
      node_version: process.version,
      pid: process.pid,
      started_at: deps.startedAt,
      uptime_seconds: (now() - deps.startedAt) / 1000,
      telemetry: { transport: deps.transport, ...deps.ledger() },
      process: deps.process(),
      pools: { pdf: deps.pools.pdf.stats(), batch: deps.pools.batch.stats() },
      ...(deps.upstream ? { http_client: deps.upstream.stats(), circuit_breakers: deps.upstream.breakers.counts() } : {}),
      ...(deps.cache ? { cache: deps.cache.stats() } : {}),
      ...(deps.pdf ? { pdf_browser: { available: deps.pdf.available } } : {}),
      redis: deps.cache instanceof RedisCache ? { configured: true, up: deps.cache.connected } : { configured: false, up: false },
    }),
  );
  app.notFound((c) => c.json({ success: false, error: 'not found', error_type: 'not_found' }, 404));
  return app;
}
