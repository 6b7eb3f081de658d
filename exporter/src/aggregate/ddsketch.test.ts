import { lognormal } from '@dl/testkit';
import { describe, expect, it } from 'vitest';
import { DDSketch, SCHEMA_5_ALPHA, schema5Index } from './ddsketch.ts';

const exact = (sorted: number[], q: number) => sorted[Math.floor(q * (sorted.length - 1))] as number;

describe('DDSketch', () => {
  it.each([1, 2, 3])(
    'answers quantiles within its alpha (1.08 %%, schema 5) of exact on 100,000 lognormal samples, seed %i',
    (seed) => {
      const values = lognormal(100_000, seed);
      const sketch = new DDSketch();
      for (const v of values) sketch.accept(v);
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of [0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999]) {
        const truth = exact(sorted, q);
        expect(Math.abs(sketch.quantile(q) - truth) / truth).toBeLessThanOrEqual(SCHEMA_5_ALPHA);
      }
      expect(sketch.count).toBe(100_000);
      expect(sketch.min).toBe(sorted[0]);
      expect(sketch.max).toBe(sorted[sorted.length - 1]);
    },
  );

  it('merges to the same answers as one sketch fed everything', () => {
    const values = lognormal(20_000, 9, 0, 2);
    const whole = new DDSketch();
    const parts = [new DDSketch(), new DDSketch(), new DDSketch()];
    values.forEach((v, i) => {
      whole.accept(v);
      (parts[i % 3] as DDSketch).accept(v);
    });
    const merged = new DDSketch();
    for (const p of parts) merged.merge(p);
    for (const q of [0.5, 0.9, 0.99]) expect(merged.quantile(q)).toBe(whole.quantile(q));
    expect(merged.count).toBe(whole.count);
    expect(merged.sum).toBeCloseTo(whole.sum, 6);
  });

  it('handles zeros, a single value, emptiness and reset', () => {
    const s = new DDSketch();
    expect(s.quantile(0.5)).toBeNaN();
    s.accept(0);
    s.accept(0);
    s.accept(2);
    expect(s.quantile(0.5)).toBe(0);
    expect(s.quantile(1)).toBe(2);
    expect(s.quantile(0.99)).toBe(0); // rank 1.98 of [0, 0, 2] is still a zero, as in the exact definition
    s.accept(2);
    expect(Math.abs(s.quantile(0.99) - 2) / 2).toBeLessThanOrEqual(SCHEMA_5_ALPHA * (1 + 1e-12));
    s.reset();
    expect(s.count).toBe(0);
    s.accept(5);
    expect(s.quantile(0.5)).toBe(5);
  });
});

/**
 * Bound i of schema 5, 2^(i/32), as Prometheus' Go client takes it: the power of two times the
 * nearest double to 2^(k/32) (`2 ** (i / 32)` itself can be a unit in the last place away).
 */
const boundOf = (i: number) => 2 ** ((((i % 32) + 32) % 32) / 32) * 2 ** Math.floor(i / 32);

/** Schema 5 by definition: the least i with v <= bound i, searched from a logarithm's guess. */
function referenceIndex(v: number): number {
  let i = Math.ceil(Math.log2(v) * 32);
  while (v <= boundOf(i - 1)) i--;
  while (v > boundOf(i)) i++;
  return i + 0; // not -0, from ceil of a small negative
}

/** The next double above (dir 1) or below (dir -1) a positive v. */
function nextDouble(v: number, dir: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(dir));
  return view.getFloat64(0);
}

describe('schema5Index', () => {
  it('puts every bound of 2^-30..2^20 in its own bucket and the next double up in the next one', () => {
    let checked = 0;
    for (let i = -30 * 32; i <= 20 * 32; i++) {
      const bound = boundOf(i);
      expect(schema5Index(bound)).toBe(i);
      expect(schema5Index(nextDouble(bound, 1))).toBe(i + 1);
      expect(schema5Index(nextDouble(bound, -1))).toBe(referenceIndex(nextDouble(bound, -1)));
      checked++;
    }
    expect(checked).toBe(50 * 32 + 1);
  });

  it('agrees with the definition on 200,000 lognormal values', () => {
    const values = [...lognormal(100_000, 7), ...lognormal(100_000, 8).map((v) => v / 1e4)];
    let differ = 0;
    for (const v of values) if (schema5Index(v) !== referenceIndex(v)) differ++;
    expect(differ).toBe(0);
  });
});
