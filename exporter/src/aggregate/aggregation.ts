import type { ExporterConfig } from '../config.ts';
import { responseTimeBounds } from '../config.ts';
import { Aggregator } from './aggregator.ts';
import { DomainAggregator } from './domainAggregator.ts';
import { RequestAggregator } from './requestAggregator.ts';
import { PERFORMANCE_WINDOW_MAX_MS, SLOT_MS, slotsFor } from './slotWindow.ts';

/** The aggregate stage as the configuration asks for it: bounds, series cap, Apdex T, enough slots for the health window. */
export function createAggregation(config: ExporterConfig): Aggregator {
  const requests = new RequestAggregator({
    bounds: responseTimeBounds(config.APDEX_T_S, config.SLO_LATENCY_S),
    seriesLimit: config.SERIES_LIMIT,
    apdexT: config.APDEX_T_S,
    slots: slotsFor(Math.max(PERFORMANCE_WINDOW_MAX_MS, config.HEALTH_WINDOW * 1000), SLOT_MS),
  });
  return new Aggregator(requests, new DomainAggregator());
}
