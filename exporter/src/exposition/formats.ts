import type { ExpositionFormat } from './families.ts';

/**
 * The exposition formats' content types and their negotiation, apart from the renderers. The text
 * and OpenMetrics types are prom-client's (exposition.test checks they still agree).
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
export const PROTOBUF_CONTENT_TYPE =
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  prometheus: PROMETHEUS_CONTENT_TYPE,
  openmetrics: OPENMETRICS_CONTENT_TYPE,
  protobuf: PROTOBUF_CONTENT_TYPE,
};

/**
 * Protobuf (with native histograms) when the scraper offers the delimited MetricFamily format, as a
 * Prometheus with native histograms enabled does; OpenMetrics when asked for; else the text format.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'prometheus';
  const offered = (type: string) => accept.split(',').some((part) => part.includes(type) && !/;\s*q=0(\.0*)?\s*(;|$)/.test(part));
  if (
    offered('application/vnd.google.protobuf') &&
    accept.includes('proto=io.prometheus.client.MetricFamily') &&
    accept.includes('encoding=delimited')
  )
    return 'protobuf';
  return offered('application/openmetrics-text') ? 'openmetrics' : 'prometheus';
}
