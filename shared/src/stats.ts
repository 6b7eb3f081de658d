import * as z from 'zod';

/**
 * The downloader's `GET /internal/stats` (admin listener), polled by the exporter. Sections the
 * downloader does not have yet (no Redis configured, no PDF browser) are absent, not zero.
 */
const count = z.number().int().nonnegative();
const pool = z.object({ limit: count, active: count, queued: count });

const gcKind = z.object({ runs: count, seconds: z.number().nonnegative() });

export const downloaderStatsSchema = z.object({
  version: z.string(),
  /** `process.version` of the downloader (absent from downloaders before 0.1.0's metric conventions). */
  node_version: z.string().optional(),
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
    // Optional: an exporter must still read a downloader that predates them.
    heap_total_bytes: count.optional(),
    external_memory_bytes: count.optional(),
    /** Share of wall time the event loop was busy since the previous sample, 0-1. */
    event_loop_utilization: z.number().min(0).max(1).optional(),
    active_resources: count.optional(),
    /** Collections since start by kind, as Node's `gc` performance entries name them. */
    gc: z.object({ minor: gcKind, major: gcKind, incremental: gcKind, weakcb: gcKind }).optional(),
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
