import client from 'prom-client';
import { encodeFamilies } from './clientModel.ts';
import type { ExpositionFormat } from './families.ts';
import type { FamilySet } from './familySet.ts';
import { processFamilies } from './processProto.ts';

/**
 * The exporter's own process metrics (never the global registry): one set of collectors, so one
 * event-loop monitor and one set of timers, in two registries because prom-client fixes the format
 * per registry.
 */
type ProcessRegistries = { prometheus: client.Registry; openmetrics: client.Registry<client.OpenMetricsContentType> };

/** prom-client's gauges named like counters (`nodejs_active_handles_total`): promtool flags them, and each repeats a gauge without the suffix. */
const MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

function createProcessRegistries(): ProcessRegistries {
  const prometheus = new client.Registry();
  client.collectDefaultMetrics({ register: prometheus });
  for (const name of MISNAMED) prometheus.removeSingleMetric(name);
  const openmetrics = new client.Registry<client.OpenMetricsContentType>();
  openmetrics.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
  for (const { name } of prometheus.getMetricsAsArray()) {
    const metric = prometheus.getSingleMetric(name);
    if (metric) openmetrics.registerMetric(metric);
  }
  return { prometheus, openmetrics };
}

/**
 * The /metrics body: the family set rendered by hand, then prom-client's process metrics, unprefixed
 * (`process_*`, `nodejs_*`: a pod's scrape target is the exporter, and stock Node.js dashboards find
 * them), as one exposition. `beforeScrape` runs first (per-scrape caches reset there).
 */
export function createExposition(families: FamilySet, beforeScrape: () => void = () => {}) {
  const registries = createProcessRegistries();
  return async (format: ExpositionFormat): Promise<string | Uint8Array> => {
    beforeScrape();
    if (format === 'protobuf') {
      return encodeFamilies([...families.toProto(), ...processFamilies(await registries.prometheus.getMetricsAsJSON())]);
    }
    const out = families.render(format);
    const processText = await registries[format].metrics();
    if (format === 'openmetrics') return `${out}${processText.replace(/# EOF\n?$/, '')}# EOF\n`;
    return out + processText;
  };
}
