import protobuf from 'protobufjs';

/**
 * Prometheus's exposition protobuf messages (client_model's io.prometheus.client, the wire format
 * Prometheus scrapes with `Accept: application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`),
 * declared for protobufjs with the upstream field numbers. Only the fields the exporter writes are
 * declared; a decoder skips the rest. The native-histogram fields are what lets Prometheus merge
 * percentiles across pods.
 */
const descriptor = {
  nested: {
    io: {
      nested: {
        prometheus: {
          nested: {
            client: {
              nested: {
                LabelPair: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
                MetricType: { values: { COUNTER: 0, GAUGE: 1, SUMMARY: 2, UNTYPED: 3, HISTOGRAM: 4, GAUGE_HISTOGRAM: 5 } },
                Gauge: { fields: { value: { type: 'double', id: 1 } } },
                Counter: { fields: { value: { type: 'double', id: 1 } } },
                Bucket: {
                  fields: { cumulative_count: { type: 'uint64', id: 1 }, upper_bound: { type: 'double', id: 2 } },
                },
                BucketSpan: { fields: { offset: { type: 'sint32', id: 1 }, length: { type: 'uint32', id: 2 } } },
                Histogram: {
                  fields: {
                    sample_count: { type: 'uint64', id: 1 },
                    sample_sum: { type: 'double', id: 2 },
                    bucket: { rule: 'repeated', type: 'Bucket', id: 3 },
                    schema: { type: 'sint32', id: 5 },
                    zero_threshold: { type: 'double', id: 6 },
                    zero_count: { type: 'uint64', id: 7 },
                    positive_span: { rule: 'repeated', type: 'BucketSpan', id: 12 },
                    positive_delta: { rule: 'repeated', type: 'sint64', id: 13 },
                  },
                },
                Metric: {
                  fields: {
                    label: { rule: 'repeated', type: 'LabelPair', id: 1 },
                    gauge: { type: 'Gauge', id: 2 },
                    counter: { type: 'Counter', id: 3 },
                    histogram: { type: 'Histogram', id: 7 },
                  },
                },
                MetricFamily: {
                  fields: {
                    name: { type: 'string', id: 1 },
                    help: { type: 'string', id: 2 },
                    type: { type: 'MetricType', id: 3 },
                    metric: { rule: 'repeated', type: 'Metric', id: 4 },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

export const MetricFamily = protobuf.Root.fromJSON(descriptor).lookupType('io.prometheus.client.MetricFamily');

export interface LabelPair {
  name: string;
  value: string;
}

export interface NativeHistogram {
  schema: number;
  zero_threshold: number;
  zero_count: number;
  positive_span: { offset: number; length: number }[];
  positive_delta: number[];
}

export interface MetricMessage {
  label: LabelPair[];
  gauge?: { value: number };
  counter?: { value: number };
  histogram?: {
    sample_count: number;
    sample_sum: number;
    bucket: { cumulative_count: number; upper_bound: number }[];
  } & Partial<NativeHistogram>;
}

export interface MetricFamilyMessage {
  name: string;
  help: string;
  type: 0 | 1 | 4;
  metric: MetricMessage[];
}

/** Length-delimited MetricFamily messages, one after another: the body of a protobuf scrape. */
export function encodeFamilies(families: readonly MetricFamilyMessage[]): Uint8Array {
  const writer = protobuf.Writer.create();
  for (const f of families) MetricFamily.encodeDelimited(f, writer);
  return writer.finish();
}
