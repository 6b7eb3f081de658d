import type client from 'prom-client';
import type { MetricFamilyMessage, MetricMessage } from './clientModel.ts';

type Json = Awaited<ReturnType<client.Registry['getMetricsAsJSON']>>[number];
type Value = { value: number; labels: Record<string, string | number>; metricName?: string };

const pairs = (labels: Record<string, string | number>) =>
  Object.entries(labels)
    .filter(([name]) => name !== 'le')
    .map(([name, value]) => ({ name, value: String(value) }));

/** One prom-client histogram's `_bucket`, `_sum` and `_count` values, regrouped into protobuf metrics by labels. */
function histogramMetrics(name: string, values: readonly Value[]): MetricMessage[] {
  const byLabels = new Map<string, MetricMessage & { histogram: NonNullable<MetricMessage['histogram']> }>();
  for (const v of values) {
    const label = pairs(v.labels);
    const key = JSON.stringify(label);
    let m = byLabels.get(key);
    if (!m) {
      m = { label, histogram: { sample_count: 0, sample_sum: 0, bucket: [] } };
      byLabels.set(key, m);
    }
    if (v.metricName === `${name}_sum`) m.histogram.sample_sum = v.value;
    else if (v.metricName === `${name}_count`) m.histogram.sample_count = v.value;
    else if (v.labels.le !== '+Inf') m.histogram.bucket.push({ cumulative_count: v.value, upper_bound: Number(v.labels.le) });
  }
  return [...byLabels.values()];
}

/** prom-client's process metrics (its JSON form) as protobuf MetricFamily messages. */
export function processFamilies(json: readonly Json[]): MetricFamilyMessage[] {
  return json.flatMap((f): MetricFamilyMessage[] => {
    const values = f.values as Value[];
    const label = (v: Value) => pairs(v.labels);
    switch (String(f.type)) {
      case 'counter':
        return [
          { name: f.name, help: f.help, type: 0, metric: values.map((v) => ({ label: label(v), counter: { value: v.value } })) },
        ];
      case 'gauge':
        return [
          { name: f.name, help: f.help, type: 1, metric: values.map((v) => ({ label: label(v), gauge: { value: v.value } })) },
        ];
      case 'histogram':
        return [{ name: f.name, help: f.help, type: 4, metric: histogramMetrics(f.name, values) }];
      default:
        return []; // prom-client's default metrics have no summaries
    }
  });
}
