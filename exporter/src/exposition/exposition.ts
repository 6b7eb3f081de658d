import client from 'prom-client';
import type { ExpositionFormat } from './families.ts';
import type { FamilySet } from './familySet.ts';

export const PROMETHEUS_CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_CONTENT_TYPE = client.Registry.OPENMETRICS_CONTENT_TYPE;

/** The exporter's own process metrics, in one prom-client registry per format (never the global one). */
type ProcessRegistries = { prometheus: client.Registry; openmetrics: client.Registry<client.OpenMetricsContentType> };

function createProcessRegistries(prefix: string): ProcessRegistries {
  const prometheus = new client.Registry();
  const openmetrics = new client.Registry<client.OpenMetricsContentType>();
  openmetrics.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
  client.collectDefaultMetrics({ register: prometheus, prefix });
  client.collectDefaultMetrics({ register: openmetrics, prefix });
  return { prometheus, openmetrics };
}

/** Picks OpenMetrics only when the scraper asks for it. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  return accept?.includes('application/openmetrics-text') ? 'openmetrics' : 'prometheus';
}

/**
 * The /metrics body: the family set rendered by hand, then prom-client's process metrics (prefix
 * `exporter_`), as one exposition. `beforeScrape` runs first (per-scrape caches reset there).
 */
export function createExposition(families: FamilySet, beforeScrape: () => void = () => {}) {
  const registries = createProcessRegistries('exporter_');
  return async (format: ExpositionFormat): Promise<string> => {
    beforeScrape();
    const out = families.render(format);
    const processText = await registries[format].metrics();
    if (format === 'openmetrics') return `${out}${processText.replace(/# EOF\n?$/, '')}# EOF\n`;
    return out + processText;
  };
}
