/**
 * The 0-100 health score: a pure function of one snapshot (the last HEALTH_WINDOW of events plus the
 * latest poll). Start at 100, subtract bounded penalties; every factor explains itself.
 *
 * Small samples: a factor built on a share (error rate, Apdex, targets) or a percentile (latency)
 * says `insufficient_data` and costs nothing below `minRequests` requests, and a share is judged by
 * its Wilson score bound (the lower bound for a bad share, the upper for a good one, at `confidenceZ`),
 * so a penalty needs evidence: the true share is past the threshold with that confidence.
 */

import { wilsonInterval } from './wilson.ts';

export const FACTORS = ['error_rate', 'latency', 'apdex', 'saturation', 'dependencies', 'telemetry', 'targets'] as const;
export type FactorName = (typeof FACTORS)[number];
export type FactorStatus = 'ok' | 'warn' | 'critical' | 'no_data' | 'insufficient_data';
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
  /** Fewer requests in the window than this: share and percentile factors say insufficient_data. */
  minRequests: number;
  /** z of the Wilson score bound a share is judged by (1.96: 95 % confidence). */
  confidenceZ: number;
  errorRateWarn: number; // share of the service's own errors, 0.01 = 1 %
  errorRateCritical: number;
  sloLatencyS: number; // p95 target; critical at 3x
  apdexT: number;
  apdexWarn: number;
  apdexCritical: number;
  saturationWarn: number; // percent
  saturationCritical: number;
  lagWarnS: number; // exporter event delay p99 that counts as lagging
  targetsWarn: number; // share of requests whose target failed
  targetsCritical: number;
  /** The targets factor informs; it costs points only when this is above 0. */
  targetsMaxPenalty: number;
  /** Egress: fetches to at least this many distinct hosts failing (network, timeout)... */
  egressMinHosts: number;
  /** ...and at least this share of all fetches failing so: our network or DNS, not theirs. */
  egressFailureShare: number;
}

/** Most points each factor can take (`targets`: HEALTH_TARGETS_MAX_PENALTY, 0 by default). */
export const MAX_PENALTY: Record<Exclude<FactorName, 'targets'>, number> = {
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

/** Upstream fetches in the window, for the egress check. */
export interface FetchFigures {
  fetches: number;
  /** Fetches that failed by network error or timeout, and how many distinct hosts they went to. */
  unreachable: number;
  unreachableHosts: number;
}

export interface HealthSnapshot {
  /** False when the downloader is unreachable (`Poller.reachable`): score 0, status `down`. */
  downloaderUp: boolean;
  windowSeconds: number;
  requests: number;
  /** Requests that failed by the service's own fault, and by the target's (error causes). */
  serviceErrors: number;
  targetErrors: number;
  fetches: FetchFigures;
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

/** No traffic: no_data; too little to judge: insufficient_data (with the observed value); else undefined. */
function tooFew(s: HealthSnapshot, t: HealthThresholds, threshold: number, value: number | null): Factor | undefined {
  if (s.requests === 0) return noData(threshold, 'no requests in the window');
  if (s.requests >= t.minRequests) return undefined;
  return {
    value,
    threshold,
    penalty: 0,
    status: 'insufficient_data',
    detail: `${s.requests} requests in the window; at least ${t.minRequests} are needed to judge`,
  };
}

/** A bad share (errors, failed targets): judged by its Wilson lower bound, so few failures need many requests behind them. */
function badShare(
  count: number,
  s: HealthSnapshot,
  t: HealthThresholds,
  limits: { warn: number; critical: number; max: number },
  what: string,
): Factor {
  const rate = count / s.requests;
  const low = wilsonInterval(count, s.requests, t.confidenceZ).low;
  const too = tooFew(s, t, limits.warn * 100, round(rate * 100));
  if (too) return too;
  const g = graded(low, limits.warn, limits.critical, limits.max);
  return {
    value: round(rate * 100),
    threshold: limits.warn * 100,
    ...g,
    detail: `${count} of ${s.requests} requests ${what} (${pct(rate)}, at least ${pct(low)} with confidence; warn above ${pct(limits.warn)}, critical at ${pct(limits.critical)})`,
  };
}

function errorRate(s: HealthSnapshot, t: HealthThresholds): Factor {
  const limits = { warn: t.errorRateWarn, critical: t.errorRateCritical, max: MAX_PENALTY.error_rate };
  return badShare(s.serviceErrors, s, t, limits, 'failed by the service itself');
}

function targets(s: HealthSnapshot, t: HealthThresholds): Factor {
  const limits = { warn: t.targetsWarn, critical: t.targetsCritical, max: t.targetsMaxPenalty };
  return badShare(s.targetErrors, s, t, limits, 'failed because their target did');
}

function latency(s: HealthSnapshot, t: HealthThresholds): Factor {
  if (s.p95 === null) return noData(t.sloLatencyS, 'no requests in the window');
  const too = tooFew(s, t, t.sloLatencyS, s.p95);
  if (too) return too;
  const g = graded(s.p95, t.sloLatencyS, 3 * t.sloLatencyS, MAX_PENALTY.latency);
  return {
    value: s.p95,
    threshold: t.sloLatencyS,
    ...g,
    detail: `p95 response time ${round(s.p95 * 1000)} ms against a ${t.sloLatencyS * 1000} ms target (critical at ${3 * t.sloLatencyS * 1000} ms)`,
  };
}

function apdex(s: HealthSnapshot, t: HealthThresholds): Factor {
  const score = s.requests ? (s.apdexSatisfied + s.apdexTolerating / 2) / s.requests : 0;
  const too = tooFew(s, t, t.apdexWarn, round(score * 1000) / 1000);
  if (too) return too;
  // Apdex counts half a point per tolerating request: as a share, its Wilson upper bound.
  const high = wilsonInterval(s.apdexSatisfied + s.apdexTolerating / 2, s.requests, t.confidenceZ).high;
  const g = graded(high, t.apdexWarn, t.apdexCritical, MAX_PENALTY.apdex);
  return {
    value: round(score * 1000) / 1000,
    threshold: t.apdexWarn,
    ...g,
    detail: `Apdex ${round(score * 1000) / 1000} (at most ${round(high * 1000) / 1000} with confidence) with T = ${t.apdexT} s: ${s.apdexSatisfied} satisfied, ${s.apdexTolerating} tolerating, ${s.requests - s.apdexSatisfied - s.apdexTolerating} frustrated`,
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

function dependencies(s: HealthSnapshot, t: HealthThresholds): Factor {
  const d = s.dependencies;
  const problems: [string, number][] = [];
  const f = s.fetches;
  if (f.unreachableHosts >= t.egressMinHosts && f.unreachable >= t.egressFailureShare * f.fetches) {
    problems.push([
      `egress: fetches to ${f.unreachableHosts} distinct hosts fail (${f.unreachable} of ${f.fetches}): our network or DNS`,
      10,
    ]);
  }
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
    dependencies: dependencies(s, t),
    telemetry: telemetry(s, t),
    targets: targets(s, t),
  };
  const base = { factors, window_seconds: s.windowSeconds, computed_at: s.now.toISOString() };
  if (!s.downloaderUp) return { overall_score: 0, status: 'down', ...base };
  const penalty = FACTORS.reduce((sum, f) => sum + factors[f].penalty, 0);
  const score = Math.max(0, Math.min(100, round(100 - penalty)));
  return { overall_score: score, status: statusOf(score), ...base };
}
