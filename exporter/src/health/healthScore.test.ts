import { describe, expect, it } from 'vitest';
import { healthThresholds, loadExporterConfig } from '../config.ts';
import { computeHealth, type HealthSnapshot, MAX_PENALTY, statusOf } from './healthScore.ts';

/** The thresholds a default configuration gives. */
const thresholds = healthThresholds(loadExporterConfig({}));

const healthy: HealthSnapshot = {
  downloaderUp: true,
  windowSeconds: 300,
  requests: 1000,
  serverErrors: 0,
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
    // 5xx share: warn above 1 %, critical at 5 %
    ['error_rate', { serverErrors: 10 }, 0, 'ok'],
    ['error_rate', { serverErrors: 11 }, 15.38, 'warn'],
    ['error_rate', { serverErrors: 30 }, 22.5, 'warn'],
    ['error_rate', { serverErrors: 50 }, 30, 'critical'],
    ['error_rate', { serverErrors: 1000 }, 30, 'critical'],
    // p95 against 1 s, critical at 3 s
    ['latency', { p95: 1 }, 0, 'ok'],
    ['latency', { p95: 2 }, 18.75, 'warn'],
    ['latency', { p95: 3 }, 25, 'critical'],
    // Apdex: warn below 0.94, critical at 0.85
    ['apdex', { apdexSatisfied: 940 }, 0, 'ok'],
    ['apdex', { apdexSatisfied: 900, apdexTolerating: 0 }, 10.83, 'warn'],
    ['apdex', { apdexSatisfied: 700, apdexTolerating: 300 }, 15, 'critical'],
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
    const r = health({ requests: 0, serverErrors: 0, p95: null, apdexSatisfied: 0, maxUtilizationPercent: null });
    for (const f of ['error_rate', 'latency', 'apdex', 'saturation'] as const) {
      expect(r.factors[f]).toMatchObject({ value: null, penalty: 0, status: 'no_data' });
    }
    expect(r.overall_score).toBe(100);
  });

  it('clamps at 0 and sums every maximum when everything is wrong', () => {
    const r = health({
      serverErrors: 1000,
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
