import { describe, expect, it } from 'vitest';
import { healthThresholds, loadExporterConfig } from '../config.ts';
import { computeHealth, type HealthSnapshot, MAX_PENALTY, statusOf } from './healthScore.ts';

/** The thresholds a default configuration gives. */
const thresholds = healthThresholds(loadExporterConfig({}));

const healthy: HealthSnapshot = {
  downloaderUp: true,
  windowSeconds: 300,
  requests: 1000,
  serviceErrors: 0,
  targetErrors: 0,
  fetches: { fetches: 0, unreachable: 0, unreachableHosts: 0 },
  p95: 0.2,
  apdexSatisfied: 1000,
  apdexTolerating: 0,
  maxUtilizationPercent: 10,
  dependencies: { redis: true, http_client: true, pdf_browser: true, circuit_breakers_open: 0 },
  droppedInWindow: 0,
  eventLagP99S: 0.01,
  now: new Date('2026-11-29T00:00:00Z'),
};
const health = (over: Partial<HealthSnapshot>) => computeHealth({ ...healthy, ...over }, thresholds);

describe('computeHealth', () => {
  it('scores a quiet, fast, error-free service 100 and healthy', () => {
    const r = health({});
    expect(r).toMatchObject({
      overall_score: 100,
      status: 'healthy',
      window_seconds: 300,
      computed_at: '2026-11-29T00:00:00.000Z',
    });
    for (const f of Object.values(r.factors)) expect(f).toMatchObject({ penalty: 0, status: 'ok' });
  });

  it.each([
    // The service's own errors: warn above 1 %, critical at 5 %, judged by the 95 % Wilson lower bound
    ['error_rate', { serviceErrors: 10 }, 0, 'ok'], // 1 %, at least 0.54 %
    ['error_rate', { serviceErrors: 30 }, 19.16, 'warn'], // 3 %, at least 2.11 %
    ['error_rate', { serviceErrors: 60 }, 28.84, 'warn'], // 6 %, at least 4.69 %
    ['error_rate', { serviceErrors: 100 }, 30, 'critical'], // 10 %, at least 8.29 %
    ['error_rate', { serviceErrors: 1000 }, 30, 'critical'],
    ['error_rate', { requests: 200, apdexSatisfied: 200, serviceErrors: 10 }, 21.52, 'warn'], // 10 in 200: at least 2.74 %
    ['error_rate', { requests: 3, apdexSatisfied: 3, serviceErrors: 1 }, 0, 'insufficient_data'], // 1 in 3: too few to judge
    ['error_rate', { targetErrors: 500 }, 0, 'ok'], // dead links are not the service's errors
    // p95 against 1 s, critical at 3 s
    ['latency', { p95: 1 }, 0, 'ok'],
    ['latency', { p95: 2 }, 18.75, 'warn'],
    ['latency', { p95: 3 }, 25, 'critical'],
    ['latency', { requests: 19, apdexSatisfied: 19, p95: 10 }, 0, 'insufficient_data'],
    // Apdex: warn below 0.94, critical at 0.85, judged by the 95 % Wilson upper bound
    ['apdex', { apdexSatisfied: 940 }, 0, 'ok'],
    ['apdex', { apdexSatisfied: 900, apdexTolerating: 0 }, 9.41, 'warn'], // 0.9, at most 0.917
    ['apdex', { apdexSatisfied: 600, apdexTolerating: 200 }, 15, 'critical'], // 0.7, at most 0.728
    ['apdex', { requests: 3, apdexSatisfied: 2 }, 0, 'insufficient_data'], // one slow request in three
    // Pool utilisation: warn above 80 %, critical at 95 %
    ['saturation', { maxUtilizationPercent: 80 }, 0, 'ok'],
    ['saturation', { maxUtilizationPercent: 90 }, 12.5, 'warn'],
    ['saturation', { maxUtilizationPercent: 100 }, 15, 'critical'],
    // Dependencies, capped at 20
    ['dependencies', { dependencies: { redis: false } }, 10, 'critical'],
    ['dependencies', { dependencies: { pdf_browser: false } }, 5, 'warn'],
    [
      'dependencies',
      { dependencies: { redis: false, http_client: false, pdf_browser: false, circuit_breakers_open: 2 } },
      20,
      'critical',
    ],
    ['dependencies', { dependencies: {} }, 0, 'ok'], // nothing configured: nothing to penalise
    // Egress: fetches to >= 5 distinct hosts failing, and >= 50 % of all fetches
    ['dependencies', { fetches: { fetches: 10, unreachable: 6, unreachableHosts: 5 } }, 10, 'critical'],
    ['dependencies', { fetches: { fetches: 10, unreachable: 10, unreachableHosts: 4 } }, 0, 'ok'], // one sick site or four
    ['dependencies', { fetches: { fetches: 100, unreachable: 40, unreachableHosts: 9 } }, 0, 'ok'], // most fetches work
    // Targets: informs (critical at 50 %), costs nothing by default
    ['targets', { targetErrors: 600 }, 0, 'critical'],
    ['targets', { targetErrors: 200 }, 0, 'warn'],
    ['targets', { targetErrors: 50 }, 0, 'ok'], // 5 %
    // Telemetry
    ['telemetry', { droppedInWindow: 1 }, 5, 'warn'],
    ['telemetry', { eventLagP99S: 6 }, 5, 'warn'],
  ] as const)('%s with %o: penalty %d, %s', (factor, over, penalty, status) => {
    const r = health(over as Partial<HealthSnapshot>);
    expect(r.factors[factor].status).toBe(status);
    expect(r.factors[factor].penalty).toBeCloseTo(penalty, 1);
    expect(r.factors[factor].detail.length).toBeGreaterThan(5);
    expect(r.overall_score).toBeCloseTo(100 - penalty, 1);
  });

  it('says no_data for traffic factors in an empty window, without penalty or perfection', () => {
    const r = health({ requests: 0, serviceErrors: 0, p95: null, apdexSatisfied: 0, maxUtilizationPercent: null });
    for (const f of ['error_rate', 'latency', 'apdex', 'saturation', 'targets'] as const) {
      expect(r.factors[f]).toMatchObject({ value: null, penalty: 0, status: 'no_data' });
    }
    expect(r.overall_score).toBe(100);
  });

  it('clamps at 0 and sums every maximum when everything is wrong', () => {
    const r = health({
      serviceErrors: 1000,
      p95: 30,
      apdexSatisfied: 0,
      maxUtilizationPercent: 100,
      dependencies: { redis: false, http_client: false },
      droppedInWindow: 5,
    });
    const total = Object.values(MAX_PENALTY).reduce((a, b) => a + b, 0);
    expect(total).toBe(110);
    expect(r.overall_score).toBe(0);
    expect(r.status).toBe('unhealthy');
  });

  it('is 0 and down when the downloader is unreachable, whatever else', () => {
    expect(health({ downloaderUp: false })).toMatchObject({ overall_score: 0, status: 'down' });
  });

  it.each([
    [100, 'healthy'],
    [80, 'healthy'],
    [79.99, 'degraded'],
    [60, 'degraded'],
    [59.99, 'unhealthy'],
    [0, 'unhealthy'],
  ] as const)('score %d is %s', (score, status) => expect(statusOf(score)).toBe(status));
});
