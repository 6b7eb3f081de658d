// /metrics render time at ~25,000 sample lines: the exporter's own renderer vs prom-client's
// registry.metrics() holding the same series. Rendering is synchronous, so its time is also the
// longest stall it can cause to ingest.
import client from 'prom-client';
import { RequestAggregator } from '../exporter/src/aggregate/requestAggregator.ts';
import { responseTimeBounds } from '../exporter/src/config.ts';
import { createExposition } from '../exporter/src/exposition/exposition.ts';
import { FamilySet } from '../exporter/src/exposition/familySet.ts';
import { fmt, median, type Row } from './lib.ts';

const SERIES = 1_380; // x (1 counter + 17 histogram lines) + self metrics ~ 25k lines

export async function renderBench(repeats: number): Promise<Row[]> {
  const bounds = responseTimeBounds(0.5, 1);
  // The exporter's request aggregator and exposition (its process metrics included), as composed in exporter.ts.
  const aggregator = new RequestAggregator({ bounds, seriesLimit: 5000 });
  const exporter = { render: createExposition(new FamilySet().add(...aggregator.families)) };
  const registry = new client.Registry();
  const requests = new client.Counter({
    name: 'downloader_requests_total',
    help: 'h',
    labelNames: ['endpoint', 'method', 'status'],
    registers: [registry],
  });
  const latency = new client.Histogram({
    name: 'downloader_response_time_seconds',
    help: 'h',
    labelNames: ['endpoint', 'method'],
    buckets: bounds,
    registers: [registry],
  });
  const now = Date.now();
  for (let i = 0; i < SERIES; i++) {
    const endpoint = `/route/${i}/{id}`;
    for (let k = 0; k < 20; k++) {
      const d = 0.001 * (1 + ((i * 7 + k) % 900));
      aggregator.record(endpoint, 'GET', 200, d, now);
      requests.inc({ endpoint, method: 'GET', status: '200' });
      latency.observe({ endpoint, method: 'GET' }, d);
    }
  }
  const lines = String(await exporter.render('prometheus'))
    .split('\n')
    .filter((l) => l && !l.startsWith('#')).length;
  const time = async (f: () => Promise<unknown>) => {
    const out: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      await f();
      out.push(performance.now() - t);
    }
    return out;
  };
  await exporter.render('prometheus'); // warm-up, both
  await registry.metrics();
  const ours = await time(() => exporter.render('prometheus'));
  const theirs = await time(() => registry.metrics());
  await exporter.render('protobuf');
  const proto = await time(() => exporter.render('protobuf'));
  const textBytes = Buffer.byteLength(String(await exporter.render('prometheus')));
  const protoBytes = ((await exporter.render('protobuf')) as Uint8Array).length;
  const a = median(ours);
  const b = median(theirs);
  const p = median(proto);
  return [
    {
      benchmark: `/metrics render, ${fmt(lines)} sample lines`,
      variant: 'exporter renderer (= longest ingest stall)',
      value: `${a.toFixed(1)} ms (max ${Math.max(...ours).toFixed(1)})`,
      ratio: `${(a / b).toFixed(2)}x`,
      target: '<= 20 ms; stall <= 50 ms',
    },
    {
      benchmark: `/metrics render, ${fmt(lines)} sample lines`,
      variant: 'prom-client registry.metrics(), same series',
      value: `${b.toFixed(1)} ms`,
      ratio: '1.00x',
    },
    {
      benchmark: `/metrics render, ${fmt(lines)} sample lines`,
      variant: 'protobuf with native histograms, same series',
      value: `${p.toFixed(1)} ms (max ${Math.max(...proto).toFixed(1)}), ${fmt(Math.round(protoBytes / 1024))} KiB vs text ${fmt(Math.round(textBytes / 1024))} KiB`,
      ratio: `${(p / b).toFixed(2)}x`,
      target: '<= 20 ms',
    },
  ];
}
