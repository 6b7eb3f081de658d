import type { Clock } from '../clock.ts';
import type { LiveView } from './live.ts';

/** One sample of the live view, kept so the dashboard's charts are not empty when it opens. */
export interface HistoryPoint {
  t: number;
  rps: number;
  errors_per_s: number;
  error_rate_percent: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  health_score: number;
  pdf_utilization_percent: number | null;
  batch_utilization_percent: number | null;
  active_work: number | null;
  http_active: number | null;
  http_idle: number | null;
  redis_clients: number | null;
  cache_hit_ratio: number | null;
  upstream_p95_ms: number | null;
  events_per_s: number;
  rejected_per_s: number;
  dropped_per_s: number;
  status: Record<'2xx' | '3xx' | '4xx' | '5xx', number>;
}

/** Lifetime counters the sampler turns into per-second rates between two samples. */
export interface Counters {
  statusClasses: Record<'1xx' | '2xx' | '3xx' | '4xx' | '5xx', number>;
  cache: { hit: number; miss: number; error: number };
  received: number;
  rejected: number;
  dropped: number;
}

export interface HistorySources {
  clock: Clock;
  live: () => LiveView;
  health: () => number;
  counters: () => Counters;
  upstreamP95: () => number | null;
  /** Response-time quantiles over all endpoints for the last minute, seconds; null without traffic. */
  latency: () => { p50: number; p90: number; p95: number; p99: number } | null;
}

const ms = (s: number | null | undefined) => (s === null || s === undefined ? null : s * 1000);
const delta = (a: number, b: number) => Math.max(0, a - b); // series expiry can shrink a total

/** Samples the live view every `intervalMs` into a ring of `capacity` points. */
export class LiveHistory {
  private readonly points: HistoryPoint[] = [];
  private last: { at: number; counters: Counters } | undefined;
  private stopTimer: (() => void) | undefined;

  constructor(
    private readonly sources: HistorySources,
    private readonly intervalMs: number,
    private readonly capacity = 360,
  ) {}

  start(): void {
    this.last = { at: this.sources.clock.now(), counters: this.sources.counters() };
    this.stopTimer = this.sources.clock.every(this.intervalMs, () => this.sample());
  }

  stop(): void {
    this.stopTimer?.();
  }

  /** Points newer than `since` (epoch ms), oldest first. */
  since(since = 0): HistoryPoint[] {
    return this.points.filter((p) => p.t > since);
  }

  sample(): HistoryPoint {
    const at = this.sources.clock.now();
    const counters = this.sources.counters();
    const prev = this.last ?? { at: at - this.intervalMs, counters };
    const seconds = Math.max(0.001, (at - prev.at) / 1000);
    const live = this.sources.live();
    const c = counters.statusClasses;
    const p = prev.counters.statusClasses;
    const status = {
      '2xx': delta(c['2xx'] + c['1xx'], p['2xx'] + p['1xx']),
      '3xx': delta(c['3xx'], p['3xx']),
      '4xx': delta(c['4xx'], p['4xx']),
      '5xx': delta(c['5xx'], p['5xx']),
    };
    const requests = status['2xx'] + status['3xx'] + status['4xx'] + status['5xx'];
    const hits = delta(counters.cache.hit, prev.counters.cache.hit);
    const lookups =
      hits + delta(counters.cache.miss, prev.counters.cache.miss) + delta(counters.cache.error, prev.counters.cache.error);
    const latency = this.sources.latency();
    const pools = live.concurrency;
    const point: HistoryPoint = {
      t: at,
      rps: requests / seconds,
      errors_per_s: status['5xx'] / seconds,
      error_rate_percent: requests ? (100 * status['5xx']) / requests : 0,
      p50_ms: ms(latency?.p50),
      p90_ms: ms(latency?.p90),
      p95_ms: ms(latency?.p95),
      p99_ms: ms(latency?.p99),
      health_score: this.sources.health(),
      pdf_utilization_percent: pools.pdf.utilization_percent,
      batch_utilization_percent: pools.batch.utilization_percent,
      active_work:
        pools.pdf.active === null && pools.batch.active === null ? null : (pools.pdf.active ?? 0) + (pools.batch.active ?? 0),
      http_active: live.connections.http_client.active,
      http_idle: live.connections.http_client.idle,
      redis_clients: live.connections.redis.connected_clients,
      cache_hit_ratio: lookups ? hits / lookups : null,
      upstream_p95_ms: ms(this.sources.upstreamP95()),
      events_per_s: delta(counters.received, prev.counters.received) / seconds,
      rejected_per_s: delta(counters.rejected, prev.counters.rejected) / seconds,
      dropped_per_s: delta(counters.dropped, prev.counters.dropped) / seconds,
      status,
    };
    this.last = { at, counters };
    this.points.push(point);
    if (this.points.length > this.capacity) this.points.shift();
    return point;
  }
}
