import { DDSketch } from '../aggregate/ddsketch.ts';
import type { RequestAggregator } from '../aggregate/requestAggregator.ts';
import { PERFORMANCE_WINDOWS } from '../aggregate/slotWindow.ts';

/** Figures of one endpoint over one window, in the `/metrics/performance` shape. */
export interface PerformanceFigures {
  request_count: number;
  error_count: number;
  error_rate_percent: number;
  avg_response_time: number | null;
  min_response_time: number | null;
  max_response_time: number | null;
  p50_response_time: number | null;
  p90_response_time: number | null;
  p95_response_time: number | null;
  p99_response_time: number | null;
  requests_per_second: number;
}

const orNull = (v: number) => (Number.isFinite(v) ? v : null);

export function figures(sketch: DDSketch, errors: number, seconds: number): PerformanceFigures {
  const n = sketch.count;
  return {
    request_count: n,
    error_count: errors,
    error_rate_percent: n === 0 ? 0 : (errors / n) * 100,
    avg_response_time: n === 0 ? null : sketch.sum / n,
    min_response_time: orNull(sketch.min),
    max_response_time: orNull(sketch.max),
    p50_response_time: orNull(sketch.quantile(0.5)),
    p90_response_time: orNull(sketch.quantile(0.9)),
    p95_response_time: orNull(sketch.quantile(0.95)),
    p99_response_time: orNull(sketch.quantile(0.99)),
    requests_per_second: seconds > 0 ? n / seconds : 0,
  };
}

export interface PerformanceReport {
  total_requests: number;
  total_errors: number;
  overall_error_rate_percent: number;
  overall_avg_response_time: number | null;
  endpoints: Record<string, PerformanceFigures>;
}

/**
 * Lifetime figures (window undefined) or those of the last `windowMs`, per `{METHOD}_{endpoint}`. A
 * window is whole slots, at least `windowMs` and up to a slot more: its rates divide by what it spans.
 */
export function performanceReport(
  requests: RequestAggregator,
  nowMs: number,
  elapsedS: number,
  windowMs?: number,
): PerformanceReport {
  const endpoints: Record<string, PerformanceFigures> = {};
  const span = windowMs === undefined ? 0 : requests.windowSpanMs(windowMs, nowMs);
  const all = new DDSketch();
  let errors = 0;
  for (const [key, stats] of requests.entries()) {
    const w = windowMs === undefined ? undefined : stats.window(windowMs, nowMs);
    const sketch = w ? w.sketch : stats.lifetime;
    const errs = w ? w.errors : stats.lifetimeErrors;
    if (sketch.count === 0) continue;
    const seconds = windowMs === undefined ? elapsedS : Math.min(span / 1000, elapsedS);
    endpoints[key] = figures(sketch, errs, seconds);
    all.merge(sketch);
    errors += errs;
  }
  return {
    total_requests: all.count,
    total_errors: errors,
    overall_error_rate_percent: all.count === 0 ? 0 : (errors / all.count) * 100,
    overall_avg_response_time: all.count === 0 ? null : all.sum / all.count,
    endpoints,
  };
}

export type PerformanceView = PerformanceReport & {
  uptime_seconds: number;
  windows: Record<keyof typeof PERFORMANCE_WINDOWS, PerformanceReport>;
};

/** The `/metrics/performance` body: lifetime figures plus the 1 and 5 minute windows. */
export function performanceView(requests: RequestAggregator, nowMs: number, uptimeS: number): PerformanceView {
  const windows = {
    '1m': performanceReport(requests, nowMs, uptimeS, PERFORMANCE_WINDOWS['1m']),
    '5m': performanceReport(requests, nowMs, uptimeS, PERFORMANCE_WINDOWS['5m']),
  };
  return { uptime_seconds: uptimeS, ...performanceReport(requests, nowMs, uptimeS), windows };
}
