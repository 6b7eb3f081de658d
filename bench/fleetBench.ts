// The fleet's p99 from three pods' histograms, native (schema 5) against classic buckets, on the same
// samples: what `histogram_quantile` over `sum(...)` can know. The native side merges the pods' sketches
// (their bins are the native buckets); the classic side sums the cumulative bucket counts and
// interpolates linearly inside the bucket, as histogram_quantile does.
import { lognormal } from '@dl/testkit';
import { DDSketch } from '../exporter/src/aggregate/ddsketch.ts';
import { responseTimeBounds } from '../exporter/src/config.ts';
import type { Row } from './lib.ts';

const PODS = [
  { mu: Math.log(0.05), sigma: 0.6, seed: 11 },
  { mu: Math.log(0.2), sigma: 0.7, seed: 12 },
  { mu: Math.log(0.8), sigma: 0.5, seed: 13 },
];

function classicQuantile(q: number, bounds: readonly number[], counts: readonly number[], total: number): number {
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    const n = counts[i] as number;
    if (below + n >= rank) {
      const lower = i === 0 ? 0 : (bounds[i - 1] as number);
      return lower + ((bounds[i] as number) - lower) * ((rank - below) / n);
    }
    below += n;
  }
  return bounds.at(-1) as number;
}

export function fleetBench(perPod: number): Row[] {
  const bounds = responseTimeBounds(0.5, 1);
  const merged = new DDSketch();
  const counts = new Array<number>(bounds.length + 1).fill(0);
  const all: number[] = [];
  for (const pod of PODS) {
    const sketch = new DDSketch();
    for (const v of lognormal(perPod, pod.seed, pod.mu, pod.sigma)) {
      sketch.accept(v);
      all.push(v);
      const i = bounds.findIndex((b) => v <= b);
      counts[i < 0 ? bounds.length : i] = (counts[i < 0 ? bounds.length : i] as number) + 1;
    }
    merged.merge(sketch);
  }
  all.sort((a, b) => a - b);
  const rows: Row[] = [];
  for (const q of [0.5, 0.99]) {
    const exact = all[Math.floor(q * (all.length - 1))] as number;
    const native = merged.quantile(q);
    const classic = classicQuantile(q, bounds, counts, all.length);
    const err = (v: number) => `${((100 * Math.abs(v - exact)) / exact).toFixed(2)} %`;
    rows.push({
      benchmark: `fleet p${q * 100}, 3 pods x ${perPod.toLocaleString('en-US')} lognormal`,
      variant: 'native (schema 5) vs classic buckets',
      value: `exact ${exact.toFixed(3)} s: native ${native.toFixed(3)} s (${err(native)}), classic ${classic.toFixed(3)} s (${err(classic)})`,
      target: 'native <= 2 %',
    });
  }
  return rows;
}
