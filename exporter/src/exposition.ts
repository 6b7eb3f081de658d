import client from 'prom-client';
import type { ExpositionFormat, Family } from './metrics/families.ts';

export const PROMETHEUS_CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_CONTENT_TYPE = client.Registry.OPENMETRICS_CONTENT_TYPE;

/** The exporter's own process metrics, in one prom-client registry per format (never the global one). */
export type ProcessRegistries = { prometheus: client.Registry; openmetrics: client.Registry<client.OpenMetricsContentType> };

export function createProcessRegistries(prefix: string): ProcessRegistries {
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

/** Event-fed families rendered by hand, then prom-client's process metrics, in one exposition. */
export async function renderExposition(
  families: readonly Family[],
  registries: ProcessRegistries,
  format: ExpositionFormat,
): Promise<string> {
  let out = '';
  for (const f of families) out += f.render(format);
  const processText = await registries[format].metrics();
  if (format === 'openmetrics') return `${out}${processText.replace(/# EOF\n?$/, '')}# EOF\n`;
  return out + processText;
}
