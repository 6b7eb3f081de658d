import { describe, expect, it } from 'vitest';
import { wilsonInterval } from './wilson.ts';

describe('wilsonInterval', () => {
  it.each([
    // 95 % intervals, computed independently of this code
    [0, 10, 0, 0.2775],
    [5, 10, 0.2366, 0.7634],
    [1, 3, 0.0615, 0.7923],
    [10, 200, 0.0274, 0.0897],
  ])('%i of %i at 95 %%: [%d, %d]', (k, n, low, high) => {
    const w = wilsonInterval(k, n, 1.96);
    expect(w.low).toBeCloseTo(low, 3);
    expect(w.high).toBeCloseTo(high, 3);
  });

  it('is the plain share at z = 0 and the whole range without trials', () => {
    expect(wilsonInterval(3, 10, 0)).toEqual({ low: 0.3, high: 0.3 });
    expect(wilsonInterval(0, 0, 1.96)).toEqual({ low: 0, high: 1 });
  });
});
