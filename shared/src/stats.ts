import { z } from 'zod';

/**
 * The downloader's `GET /internal/stats` (admin listener), polled by the exporter. Sections the
 * downloader does not have yet (no Redis configured, no PDF browser) are absent, not zero.
 */
const count = z.number().int().nonnegative();
const pool = z.object({ limit: count, active: count, queued: count });

export const downloaderStatsSchema = z.object({
  version: z.string(),
  pid: z.number().int().positive(),
  started_at: z.number().int().positive(),
  uptime_seconds: z.number().nonnegative(),
  telemetry: z.object({
    transport: z.string(),
    emitted: count,
    acknowledged: count,
    dropped: count,
    buffered: count,
    buffered_bytes: count,
    connected: z.boolean(),
    connects: count,
  }),
  process: z.object({
    cpu_seconds_total: z.number().nonnegative(),
    resident_memory_bytes: count,
    heap_used_bytes: count,
    event_loop_lag_seconds: z.number().nonnegative(),
    event_loop_lag_p99_seconds: z.number().nonnegative(),
  }),
  pools: z.object({ pdf: pool.optional(), batch: pool.optional() }).optional(),
  http_client: z
    .object({
      healthy: z.boolean(),
      connections: z.object({ active: count, idle: count, pending: count }),
    })
    .optional(),
  circuit_breakers: z.object({ closed: count, open: count, half_open: count }).optional(),
  redis: z.object({ configured: z.boolean(), up: z.boolean() }).optional(),
  pdf_browser: z.object({ available: z.boolean() }).optional(),
  cache: z.object({ backend: z.enum(['memory', 'redis']), entries: count, bytes: count, hits: count, misses: count }).optional(),
});

export type DownloaderStats = z.infer<typeof downloaderStatsSchema>;
export type PoolStats = z.infer<typeof pool>;
