import { describe, expect, it } from 'vitest';
import { downloaderStatsSchema } from './stats.ts';

const full = `{"version":"0.1.0","pid":42,"started_at":1764000000000,"uptime_seconds":12.5,
 "telemetry":{"transport":"socket","emitted":10,"acknowledged":9,"dropped":1,"buffered":0,"buffered_bytes":0,"connected":true,"connects":1},
 "process":{"cpu_seconds_total":1.5,"resident_memory_bytes":80000000,"heap_used_bytes":20000000,"event_loop_lag_seconds":0.01,"event_loop_lag_p99_seconds":0.02},
 "pools":{"pdf":{"limit":4,"active":1,"queued":0},"batch":{"limit":16,"active":16,"queued":3}},
 "http_client":{"healthy":true,"connections":{"active":2,"idle":5,"pending":0}},
 "circuit_breakers":{"closed":0,"open":1,"half_open":0},
 "redis":{"configured":true,"up":false},"pdf_browser":{"available":true},
 "cache":{"backend":"redis","entries":0,"bytes":0,"hits":3,"misses":4}}`;

describe('downloader /internal/stats contract', () => {
  it('parses the literal text the downloader serves', () => {
    const s = downloaderStatsSchema.parse(JSON.parse(full));
    expect(s.pools?.batch).toEqual({ limit: 16, active: 16, queued: 3 });
    expect(s.circuit_breakers?.open).toBe(1);
    expect(s.redis).toEqual({ configured: true, up: false });
  });

  it('accepts a downloader without the optional sections (no pools, no Redis, no browser)', () => {
    const minimal = JSON.parse(full);
    for (const k of ['pools', 'http_client', 'circuit_breakers', 'redis', 'pdf_browser', 'cache']) delete minimal[k];
    expect(downloaderStatsSchema.safeParse(minimal).success).toBe(true);
  });

  it.each([
    ['a negative count', full.replace('"active":16', '"active":-1')],
    ['a string for a number', full.replace('"pid":42', '"pid":"42"')],
    ['a missing ledger field', full.replace('"dropped":1,', '')],
    ['an unknown cache backend', full.replace('"backend":"redis"', '"backend":"memcached"')],
    ['a fractional count', full.replace('"queued":3', '"queued":3.5')],
  ])('rejects %s', (_name, text) => {
    expect(downloaderStatsSchema.safeParse(JSON.parse(text)).success).toBe(false);
  });
});
