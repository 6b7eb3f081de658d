/**
 * The 0-100 health score: a pure function of one snapshot (the last HEALTH_WINDOW of events plus the
 * latest poll). Start at 100, subtract bounded penalties; every factor explains itself.
 */

export const FACTORS = ['error_rate', 'latency', 'apdex', 'saturation', 'dependencies', 'telemetry'] as const;
export type FactorName = (typeof FACTORS)[number];
export type FactorStatus = 'ok' | 'warn' | 'critical' | 'no_data';
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy' | 'down';

export interface Factor {
  value: number | null;
  threshold: number;
  penalty: number;
  status: FactorStatus;
  detail: string;
}

export interface HealthReport {
  overall_score: number;
  status: HealthStatus;
  factors: Record<FactorName, Factor>;
  window_seconds: number;
  computed_at: string;
}

export interface HealthThresholds {
  errorRateWarn: number; // share of 5xx, 0.01 = 1 %
  errorRateCritical: number;
  sloLatencyS: number; // p95 target; critical at 3x
  apdexT: number;
  apdexWarn: number;
  apdexCritical: number;
  saturationWarn: number; // percent
  saturationCritical: number;
  lagWarnS: number; // exporter event delay p99 that counts as lagging
}

export const MAX_PENALTY: Record<FactorName, number> = {
  error_rate: 30,
  latency: 25,
  apdex: 15,
  saturation: 15,
  dependencies: 20,
  telemetry: 5,
};

/** Component states as polled; `undefined` means not configured (e.g. no REDIS_URL): no penalty. */
export interface DependencyStates {
  redis?: boolean;
  http_client?: boolean;
  pdf_browser?: boolean;
  circuit_breakers_open?: number;
}

export interface HealthSnapshot {
  /** False when the last poll of the downloader failed: score 0, status `down`. */
  downloaderUp: boolean;
  windowSeconds: number;
  requests: number;
  serverErrors: number;
  /** p95 response time over the window, seconds; null without traffic. */
  p95: number | null;
  /** Requests at or under T, and over T but at or under 4T. */
  apdexSatisfied: number;
  apdexTolerating: number;
  /** Highest pool utilisation in percent; null when no pool is reported. */
  maxUtilizationPercent: number | null;
  dependencies: DependencyStates;
  droppedInWindow: number;
  /** p99 of (aggregation time - event ts) over the window; null without events. */
  eventLagP99S: number | null;
  now: Date;
}

/** Warn at the first threshold with half the penalty, rising linearly to the full penalty at critical. */
function graded(value: number, warn: number, critical: number, max: number): { penalty: number; status: FactorStatus } {
  const rising = critical >= warn;
  const pastWarn = rising ? value > warn : value < warn;
  if (!pastWarn) return { penalty: 0, status: 'ok' };
  const pastCritical = rising ? value >= critical : value <= critical;
  if (pastCritical) return { penalty: max, status: 'critical' };
  const share = (value - warn) / (critical - warn);
  return { penalty: round(max * (0.5 + 0.5 * share)), status: 'warn' };
}

const round = (x: number) => Math.round(x * 100) / 100;
const pct = (x: number) => `${round(x * 100)}%`;
const noData = (threshold: number, detail: string): Factor => ({ value: null, threshold, penalty: 0, status: 'no_data', detail });

function errorRate(s: HealthSnapshot, t: HealthThresholds): Factor {
  if (s.requests === 0) return noData(t.errorRateWarn, 'no requests in the window');
  const rate = s.serverErrors / s.requests;
  const g = graded(rate, t.errorRateWarn, t.errorRateCritical, MAX_PENALTY.error_rate);
  return {
    value: round(rate * 100),
    threshold: t.errorRateWarn * 100,
    ...g,
    detail: `${s.serverErrors} of ${s.requests} responses were 5xx (${pct(rate)}; warn above ${pct(t.errorRateWarn)}, critical at ${pct(t.errorRateCritical)})`,
  };
}

function latency(s: HealthSnapshot, t: HealthThresholds): Factor {
  if (s.p95 === null) return noData(t.sloLatencyS, 'no requests in the window');
  const g = graded(s.p95, t.sloLatencyS, 3 * t.sloLatencyS, MAX_PENALTY.latency);
  return {
    value: s.p95,
    threshold: t.sloLatencyS,
    ...g,
    detail: `p95 response time ${round(s.p95 * 1000)} ms against a ${t.sloLatencyS * 1000} ms target (critical at ${3 * t.sloLatencyS * 1000} ms)`,
  };
}

function apdex(s: HealthSnapshot, t: HealthThresholds): Factor {
  if (s.requests === 0) return noData(t.apdexWarn, 'no requests in the window');
  const score = (s.apdexSatisfied + s.apdexTolerating / 2) / s.requests;
  const g = graded(score, t.apdexWarn, t.apdexCritical, MAX_PENALTY.apdex);
  return {
    value: round(score * 1000) / 1000,
    threshold: t.apdexWarn,
    ...g,
    detail: `Apdex ${round(score * 1000) / 1000} with T = ${t.apdexT} s: ${s.apdexSatisfied} satisfied, ${s.apdexTolerating} tolerating, ${s.requests - s.apdexSatisfied - s.apdexTolerating} frustrated`,
  };
}

function saturation(s: HealthSnapshot, t: HealthThresholds): Factor {
  if (s.maxUtilizationPercent === null) return noData(t.saturationWarn, 'the downloader reports no pools');
  const g = graded(s.maxUtilizationPercent, t.saturationWarn, t.saturationCritical, MAX_PENALTY.saturation);
  return {
    value: round(s.maxUtilizationPercent),
    threshold: t.saturationWarn,
    ...g,
    detail: `busiest pool at ${round(s.maxUtilizationPercent)}% (warn above ${t.saturationWarn}%, critical at ${t.saturationCritical}%)`,
  };
}

function dependencies(s: HealthSnapshot): Factor {
  const d = s.dependencies;
  const problems: [string, number][] = [];
  if (d.redis === false) problems.push(['Redis down', 10]);
  if (d.http_client === false) problems.push(['HTTP client unhealthy', 10]);
  if (d.pdf_browser === false) problems.push(['PDF browser unavailable', 5]);
  if ((d.circuit_breakers_open ?? 0) > 0) problems.push([`${d.circuit_breakers_open} circuit breaker(s) open`, 5]);
  const penalty = Math.min(
    MAX_PENALTY.dependencies,
    problems.reduce((a, [, p]) => a + p, 0),
  );
  return {
    value: problems.length,
    threshold: 0,
    penalty,
    status: penalty === 0 ? 'ok' : penalty >= 10 ? 'critical' : 'warn',
    detail: problems.length ? problems.map(([p]) => p).join('; ') : 'all dependencies up',
  };
}

function telemetry(s: HealthSnapshot, t: HealthThresholds): Factor {
  const lagging = s.eventLagP99S !== null && s.eventLagP99S > t.lagWarnS;
  const problems: string[] = [];
  if (s.droppedInWindow > 0) problems.push(`${s.droppedInWindow} events dropped by the emitter`);
  if (lagging) problems.push(`events reach the exporter ${round(s.eventLagP99S ?? 0)} s late (p99)`);
  return {
    value: s.droppedInWindow,
    threshold: 0,
    penalty: problems.length ? MAX_PENALTY.telemetry : 0,
    status: problems.length ? 'warn' : 'ok',
    detail: problems.length ? problems.join('; ') : 'no events dropped, no lag',
  };
}

export function statusOf(score: number): HealthStatus {
  return score >= 80 ? 'healthy' : score >= 60 ? 'degraded' : 'unhealthy';
}

export function computeHealth(s: HealthSnapshot, t: HealthThresholds): HealthReport {
  const factors: Record<FactorName, Factor> = {
    error_rate: errorRate(s, t),
    latency: latency(s, t),
    apdex: apdex(s, t),
    saturation: saturation(s, t),
    dependencies: dependencies(s),
    telemetry: telemetry(s, t),
  };
  const base = { factors, window_seconds: s.windowSeconds, computed_at: s.now.toISOString() };
  if (!s.downloaderUp) return { overall_score: 0, status: 'down', ...base };
  const penalty = FACTORS.reduce((sum, f) => sum + factors[f].penalty, 0);
  const score = Math.max(0, Math.min(100, round(100 - penalty)));
  return { overall_score: score, status: statusOf(score), ...base };
}
