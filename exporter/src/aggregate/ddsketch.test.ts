import { lognormal } from '@dl/testkit';
import { describe, expect, it } from 'vitest';
import { DDSketch, SCHEMA_5_ALPHA } from './ddsketch.ts';

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
    expect(Math.abs(s.quantile(0.99) - 2) / 2).toBeLessThanOrEqual(0.01);
    s.reset();
    expect(s.count).toBe(0);
    s.accept(5);
    expect(s.quantile(0.5)).toBe(5);
  });
});
