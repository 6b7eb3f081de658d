import { lognormal } from '@dl/testkit';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { RequestAggregator } from '../aggregate/requestAggregator.ts';
import { responseTimeBounds } from '../config.ts';
import { MetricFamily } from './clientModel.ts';
import { createExposition } from './exposition.ts';
import { singleValue } from './families.ts';
import { FamilySet } from './familySet.ts';
import { negotiateFormat } from './formats.ts';

interface Decoded {
  name: string;
  type: number;
  metric: {
    label: { name: string; value: string }[];
    counter?: { value: number };
    gauge?: { value: number };
    histogram?: {
      sample_count: number;
      sample_sum: number;
      bucket: { cumulative_count: number; upper_bound: number }[];
      schema?: number;
      zero_count?: number;
      positive_span: { offset: number; length: number }[];
      positive_delta: number[];
    };
  }[];
}

function decodeAll(bytes: Uint8Array): Decoded[] {
  const reader = protobuf.Reader.create(bytes);
  const out: Decoded[] = [];
  while (reader.pos < reader.len) {
    out.push(
      MetricFamily.toObject(MetricFamily.decodeDelimited(reader), { longs: Number, defaults: true, arrays: true }) as Decoded,
    );
  }
  return out;
}

/** The native histogram's buckets as [upper bound, count], the way Prometheus reads them (schema 5). */
function nativeBuckets(h: NonNullable<Decoded['metric'][number]['histogram']>): [number, number][] {
  const out: [number, number][] = [];
  let index = 0;
  let count = 0;
  let d = 0;
  h.positive_span.forEach((span, i) => {
    index = i === 0 ? span.offset : index + span.offset + 1;
    for (let k = 0; k < span.length; k++, d++) {
      if (k > 0) index++;
      count += h.positive_delta[d] as number;
      out.push([2 ** (index / 32), count]);
    }
  });
  return out;
}

describe('the protobuf exposition with native histograms', () => {
  const T0 = 1_764_000_000_000;
  const requests = new RequestAggregator({ bounds: responseTimeBounds(0.5, 1), seriesLimit: 10 });
  const values = lognormal(20_000, 5, -2, 0.8);
  for (const v of values) requests.record('/{url}', 'GET', 200, v, T0);
  requests.record('/{url}', 'GET', 502, 0, T0, 'target'); // a zero: the zero bucket
  const families = new FamilySet().add(
    ...requests.families,
    singleValue('x_gauge', 'A gauge.', () => 42),
  );
  const render = createExposition(families);

  it('writes every family as a length-delimited MetricFamily, process metrics included', async () => {
    const decoded = decodeAll((await render('protobuf')) as Uint8Array);
    const byName = new Map(decoded.map((f) => [f.name, f]));
    const requestsTotal = byName.get('downloader_requests_total');
    expect(requestsTotal?.type).toBe(0);
    expect(requestsTotal?.metric.map((m) => [m.label.map((l) => `${l.name}=${l.value}`).join(','), m.counter?.value])).toEqual([
      ['endpoint=/{url},method=GET,status=200,cause=none', 20_000],
      ['endpoint=/{url},method=GET,status=502,cause=target', 1],
    ]);
    expect(byName.get('x_gauge')?.metric[0]?.gauge?.value).toBe(42);
    expect(byName.get('process_cpu_user_seconds_total')?.type).toBe(0);
    expect(byName.get('nodejs_gc_duration_seconds')?.type).toBe(4);
  });

  it('carries the classic buckets and the native (schema 5) buckets of the same histogram', async () => {
    const decoded = decodeAll((await render('protobuf')) as Uint8Array);
    const h = decoded.find((f) => f.name === 'downloader_response_time_seconds')?.metric[0]?.histogram;
    if (!h) throw new Error('no histogram');
    expect(h.sample_count).toBe(20_001);
    const text = String(await render('prometheus'));
    for (const b of h.bucket) {
      expect(text).toContain(
        `downloader_response_time_seconds_bucket{endpoint="/{url}",method="GET",le="${b.upper_bound}"} ${b.cumulative_count}\n`,
      );
    }
    expect(h.schema).toBe(5);
    expect(h.zero_count).toBe(1);
    const native = nativeBuckets(h);
    expect(native.reduce((a, [, n]) => a + n, 0) + (h.zero_count ?? 0)).toBe(20_001);
    // p99 from the native buckets (upper bound of the bucket holding the rank), within one bucket of exact.
    const sorted = [...values].sort((a, b) => a - b);
    const truth = sorted[Math.floor(0.99 * (sorted.length - 1))] as number;
    const rank = 0.99 * 20_001;
    let seen = h.zero_count ?? 0;
    let bucket: [number, number] | undefined;
    for (const b of native) {
      seen += b[1];
      if (seen >= rank) {
        bucket = b;
        break;
      }
    }
    expect(bucket).toBeDefined();
    expect(Math.abs((bucket?.[0] ?? 0) - truth) / truth).toBeLessThan(2 ** (1 / 32) - 1);
  });

  it.each([
    [
      'Prometheus with native histograms',
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
      'protobuf',
    ],
    [
      'Prometheus by default',
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      'openmetrics',
    ],
    [
      'protobuf refused with q=0',
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0,text/plain',
      'prometheus',
    ],
    ['protobuf of another message', 'application/vnd.google.protobuf;proto=other.Message;encoding=delimited', 'prometheus'],
    ['curl', '*/*', 'prometheus'],
    ['nothing', undefined, 'prometheus'],
  ])('negotiates %s', (_who, accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });
});

describe('content types', () => {
  it("are prom-client's for text and OpenMetrics (formats.ts keeps them without loading it)", async () => {
    const { default: client } = await import('prom-client');
    const { PROMETHEUS_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE } = await import('./formats.ts');
    expect(PROMETHEUS_CONTENT_TYPE).toBe(client.Registry.PROMETHEUS_CONTENT_TYPE);
    expect(OPENMETRICS_CONTENT_TYPE).toBe(client.Registry.OPENMETRICS_CONTENT_TYPE);
  });
});
