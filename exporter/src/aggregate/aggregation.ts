import type { ExporterConfig } from '../config.ts';
import { responseTimeBounds } from '../config.ts';
import { Aggregator } from './aggregator.ts';
import { DomainAggregator } from './domainAggregator.ts';
import { RequestAggregator } from './requestAggregator.ts';

/** The aggregate stage as the configuration asks for it: bounds, series cap, Apdex T, enough slots for the health window. */
export function createAggregation(config: ExporterConfig): Aggregator {
  const requests = new RequestAggregator({
    bounds: responseTimeBounds(config.APDEX_T_S, config.SLO_LATENCY_S),
    seriesLimit: config.SERIES_LIMIT,
    apdexT: config.APDEX_T_S,
    slots: Math.max(30, Math.ceil((config.HEALTH_WINDOW * 1000) / 10_000)),
  });
  return new Aggregator(requests, new DomainAggregator());
}
