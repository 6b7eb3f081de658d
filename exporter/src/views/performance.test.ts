import { describe, expect, it } from 'vitest';
import { RequestAggregator } from '../aggregate/requestAggregator.ts';
import { performanceReport, performanceView } from './performance.ts';

const make = () => new RequestAggregator({ bounds: [0.1, 0.5, 1], seriesLimit: 100 });
const T0 = 1_764_000_000_000;

describe('performance figures', () => {
  it('reports lifetime and windowed figures; old slots leave the windows', () => {
    const a = make();
    a.record('/w', 'GET', 200, 0.1, T0);
    a.record('/w', 'GET', 500, 0.3, T0);
    const later = T0 + 120_000;
    a.record('/w', 'GET', 200, 0.2, later);
    const life = performanceReport(a, later, 200);
    expect(life.total_requests).toBe(3);
    expect(life.total_errors).toBe(1);
    expect(life.endpoints['GET_/w']).toMatchObject({
      request_count: 3,
      error_count: 1,
      min_response_time: 0.1,
      max_response_time: 0.3,
    });
    expect(life.endpoints['GET_/w']?.requests_per_second).toBeCloseTo(3 / 200);
    const minute = performanceReport(a, later, 200, 60_000);
    expect(minute.total_requests).toBe(1);
    expect(minute.endpoints['GET_/w']).toMatchObject({ request_count: 1, error_count: 0, p50_response_time: 0.2 });
    const five = performanceReport(a, later, 200, 300_000);
    expect(five.total_requests).toBe(3);
    expect(performanceReport(a, later + 400_000, 600, 300_000)).toMatchObject({ total_requests: 0, endpoints: {} });
  });

  it("divides a window's requests by the time its slots span, not by its nominal length", () => {
    const a = make();
    const now = T0 + 4_500; // 4.5 s into a slot: the last minute is read from slots spanning 64.5 s
    for (let i = 0; i < 129; i++) a.record('/r', 'GET', 200, 0.1, T0 - 60_000 + i * 500);
    const minute = performanceReport(a, now, 200, 60_000).endpoints['GET_/r'];
    expect(minute?.request_count).toBe(129);
    expect(minute?.requests_per_second).toBeCloseTo(129 / 64.5, 9);
    // Younger than the window: the process's uptime is the span.
    expect(performanceReport(a, now, 30, 60_000).endpoints['GET_/r']?.requests_per_second).toBeCloseTo(129 / 30, 9);
  });

  it('the /metrics/performance view holds lifetime figures and the 1 and 5 minute windows', () => {
    const a = make();
    a.record('/v', 'GET', 200, 0.25, T0);
    a.record('/v', 'POST', 404, 0.5, T0 + 90_000);
    const v = performanceView(a, T0 + 100_000, 100);
    expect(Object.keys(v.windows)).toEqual(['1m', '5m']);
    expect(v).toMatchObject({ uptime_seconds: 100, total_requests: 2, total_errors: 1, overall_error_rate_percent: 50 });
    expect(v.windows['1m'].total_requests).toBe(1);
    expect(v.windows['5m'].total_requests).toBe(2);
    expect(v.endpoints['POST_/v']).toMatchObject({ request_count: 1, error_count: 1, requests_per_second: 0.01 });
    expect(v.overall_avg_response_time).toBeCloseTo(0.375, 2);
  });
});
