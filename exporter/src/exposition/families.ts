/**
 * Minimal metric families for the hot path: series are plain objects the aggregator holds by
 * reference, so recording is a field increment, and text is rendered only at scrape time.
 * prom-client keeps the exporter's low-rate metrics; these carry everything fed by events.
 */
import type { DDSketch } from '../aggregate/ddsketch.ts';
import { NATIVE_SCHEMA } from '../aggregate/ddsketch.ts';
import type { LabelPair, MetricFamilyMessage, MetricMessage } from './clientModel.ts';

export type ExpositionFormat = 'prometheus' | 'openmetrics' | 'protobuf';

export function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function labelString(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return '';
  return names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`).join(',');
}

/** Prometheus renders numbers as Go does: +Inf, -Inf, NaN. */
export function formatValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

export interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly labelNames: readonly string[];
  /** The text formats. */
  render(format: Exclude<ExpositionFormat, 'protobuf'>): string;
  /** The protobuf format's message for this family. */
  toProto(): MetricFamilyMessage;
}

function labelPairs(names: readonly string[], values: readonly string[]): LabelPair[] {
  return names.map((name, i) => ({ name, value: values[i] ?? '' }));
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
}

export interface CounterSeries {
  readonly labels: string;
  readonly values: readonly string[];
  value: number;
}

export class CounterFamily implements Family {
  private readonly series = new Map<string, CounterSeries>();
  readonly name: string;
  readonly type = 'counter';

  /** `name` ends in `_total`, as in the text format; OpenMetrics drops it from the family name. */
  constructor(
    name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
  ) {
    if (!name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
    this.name = name;
  }

  get(values: readonly string[] = []): CounterSeries {
    const labels = labelString(this.labelNames, values);
    let s = this.series.get(labels);
    if (!s) {
      s = { labels, values: [...values], value: 0 };
      this.series.set(labels, s);
    }
    return s;
  }

  toProto(): MetricFamilyMessage {
    const metric = [...this.series.values()].map((s) => ({
      label: labelPairs(this.labelNames, s.values),
      counter: { value: s.value },
    }));
    return { name: this.name, help: this.help, type: 0, metric };
  }

  remove(series: CounterSeries): void {
    this.series.delete(series.labels);
  }

  get size(): number {
    return this.series.size;
  }

  render(format: Exclude<ExpositionFormat, 'protobuf'>): string {
    const base = format === 'openmetrics' ? this.name.slice(0, -'_total'.length) : this.name;
    let out = header(base, this.help, 'counter');
    for (const s of this.series.values()) {
      out += s.labels ? `${this.name}{${s.labels}} ${formatValue(s.value)}\n` : `${this.name} ${formatValue(s.value)}\n`;
    }
    return out;
  }
}

export interface HistogramSeries {
  readonly labels: string;
  readonly values: readonly string[];
  /** Every value observed, as a schema-5 sketch: exposed as a native histogram in the protobuf format. */
  readonly native: DDSketch | undefined;
  /** Rendered `name_bucket{labels,le="x"} ` per bucket, then `_sum` and `_count` prefixes: built once. */
  readonly linePrefixes: readonly string[];
  /** Per-bucket (not cumulative) counts; the last slot is +Inf. */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
  /** OpenMetrics exemplar suffix per bucket (` # {trace_id="..."} value ts`); absent until one is traced. */
  exemplars?: (string | undefined)[];
}

export class HistogramFamily implements Family {
  private readonly series = new Map<string, HistogramSeries>();
  private readonly leLabels: string[];
  readonly type = 'histogram';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly bounds: readonly number[],
  ) {
    this.leLabels = [...bounds.map((b) => String(b)), '+Inf'];
  }

  /** The series of `values`; `native`, when given, must see every value `observe` sees. */
  get(values: readonly string[] = [], native?: DDSketch): HistogramSeries {
    const labels = labelString(this.labelNames, values);
    let s = this.series.get(labels);
    if (!s) {
      const le = labels ? `${labels},le="` : 'le="';
      const braced = labels ? `{${labels}}` : '';
      const linePrefixes = [
        ...this.leLabels.map((b) => `${this.name}_bucket{${le}${b}"} `),
        `${this.name}_sum${braced} `,
        `${this.name}_count${braced} `,
      ];
      s = {
        labels,
        values: [...values],
        native,
        linePrefixes,
        buckets: new Float64Array(this.bounds.length + 1),
        sum: 0,
        count: 0,
      };
      this.series.set(labels, s);
    }
    return s;
  }

  /** Counts `value` (`n` times over). */
  observe(s: HistogramSeries, value: number, n = 1): void {
    const i = this.bucketOf(value);
    s.buckets[i] = (s.buckets[i] as number) + n;
    s.sum += n === 1 ? value : value * n;
    s.count += n;
  }

  /**
   * Keeps `traceId` as the exemplar of the bucket `value` fell in (the latest one per bucket), for
   * the OpenMetrics exposition. Series without traced requests hold no exemplar array at all.
   */
  exemplar(s: HistogramSeries, value: number, traceId: string, atMs: number): void {
    if (!s.exemplars) s.exemplars = new Array(this.bounds.length + 1);
    s.exemplars[this.bucketOf(value)] = ` # {trace_id="${traceId}"} ${formatValue(value)} ${atMs / 1000}`;
  }

  private bucketOf(value: number): number {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > (b[i] as number)) i++;
    return i;
  }

  remove(series: HistogramSeries): void {
    this.series.delete(series.labels);
  }

  toProto(): MetricFamilyMessage {
    const metric = [...this.series.values()].map((s): MetricMessage => {
      let cumulative = 0;
      const bucket = this.bounds.map((upper_bound, i) => {
        cumulative += s.buckets[i] as number;
        return { cumulative_count: cumulative, upper_bound };
      });
      const histogram: MetricMessage['histogram'] = { sample_count: s.count, sample_sum: s.sum, bucket };
      if (s.native) {
        const n = s.native.nativeBuckets();
        Object.assign(histogram, {
          schema: NATIVE_SCHEMA,
          zero_threshold: 1e-9,
          zero_count: n.zeroCount,
          // A native histogram with no observation yet still needs one (empty) span to be one.
          positive_span: n.spans.length ? n.spans : [{ offset: 0, length: 0 }],
          positive_delta: n.deltas,
        });
      }
      return { label: labelPairs(this.labelNames, s.values), histogram };
    });
    return { name: this.name, help: this.help, type: 4, metric };
  }

  render(format: Exclude<ExpositionFormat, 'protobuf'>): string {
    const parts: string[] = [header(this.name, this.help, 'histogram')];
    const n = this.leLabels.length;
    for (const s of this.series.values()) {
      const p = s.linePrefixes;
      // Exemplars exist only in OpenMetrics; the Prometheus text format has no place for them.
      const ex = format === 'openmetrics' ? s.exemplars : undefined;
      let cumulative = 0;
      for (let i = 0; i < n; i++) {
        cumulative += s.buckets[i] as number;
        parts.push(`${p[i]}${cumulative}${ex?.[i] ?? ''}\n`);
      }
      parts.push(`${p[n]}${formatValue(s.sum)}\n${p[n + 1]}${s.count}\n`);
    }
    return parts.join('');
  }
}

/** Gauges (or counters kept elsewhere) whose values are read at scrape time from a snapshot. */
export class CollectedFamily implements Family {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly collect: () => Iterable<readonly [values: readonly string[], value: number]>,
    readonly type: 'gauge' | 'counter' = 'gauge',
  ) {
    if (type === 'counter' && !name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
  }

  toProto(): MetricFamilyMessage {
    const metric = [...this.collect()].map(([values, value]) => ({
      label: labelPairs(this.labelNames, values),
      ...(this.type === 'counter' ? { counter: { value } } : { gauge: { value } }),
    }));
    return { name: this.name, help: this.help, type: this.type === 'counter' ? 0 : 1, metric };
  }

  render(format: Exclude<ExpositionFormat, 'protobuf'>): string {
    const base = this.type === 'counter' && format === 'openmetrics' ? this.name.slice(0, -'_total'.length) : this.name;
    let out = header(base, this.help, this.type);
    for (const [values, value] of this.collect()) {
      const labels = labelString(this.labelNames, values);
      out += labels ? `${this.name}{${labels}} ${formatValue(value)}\n` : `${this.name} ${formatValue(value)}\n`;
    }
    return out;
  }
}

/** One unlabelled value read at scrape time; no sample while `value` returns undefined. */
export function singleValue(
  name: string,
  help: string,
  value: () => number | undefined,
  type: 'gauge' | 'counter' = 'gauge',
): CollectedFamily {
  return new CollectedFamily(
    name,
    help,
    [],
    () => {
      const v = value();
      return v === undefined ? [] : [[[], v]];
    },
    type,
  );
}
