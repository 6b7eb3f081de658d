import { describe, expect, it } from 'vitest';
import { SlidingSum } from './slidingSum.ts';
import { WindowedStats } from './windowedStats.ts';

const T0 = 1_764_000_000_000; // a multiple of 10 s

describe('WindowedStats', () => {
  it('adds up the slots inside a window and leaves older ones out', () => {
    const w = new WindowedStats(10_000, 6, 0.5);
    w.record(0.1, 200, 'none', T0); // satisfied
    w.record(1.5, 404, 'client', T0 + 10_000); // tolerating (<= 4T), the caller's error
    w.record(3, 503, 'service', T0 + 20_000); // frustrated, our error
    w.record(2.5, 502, 'target', T0 + 20_000); // frustrated, the target's error
    const all = w.window(30_000, T0 + 20_000);
    expect(all).toMatchObject({ errors: 3, serviceErrors: 1, targetErrors: 1, satisfied: 1, tolerating: 1 });
    expect(all.sketch.count).toBe(4);
    expect(w.window(10_000, T0 + 20_000).sketch.count).toBe(2);
    expect(w.window(60_000, T0 + 50_000).sketch.count).toBe(4);
    expect(w.window(60_000, T0 + 60_000).sketch.count).toBe(3); // the first slot left the window
    expect(w.lifetime.count).toBe(4);
    expect(w.lifetimeErrors).toBe(3);
  });

  it('reuses a ring slot for a new period without keeping the old counts', () => {
    const w = new WindowedStats(10_000, 3);
    w.record(0.2, 500, 'service', T0);
    w.record(0.2, 200, 'none', T0 + 30_000); // same ring index, 3 periods later
    const now = w.window(10_000, T0 + 30_000);
    expect(now.sketch.count).toBe(1);
    expect(now.serviceErrors).toBe(0);
  });
});

describe('SlidingSum', () => {
  it('sums what was added within the window', () => {
    const s = new SlidingSum(10_000, 4);
    s.add(3, T0);
    s.add(4, T0 + 15_000);
    expect(s.total(20_000, T0 + 15_000)).toBe(7);
    expect(s.total(10_000, T0 + 15_000)).toBe(4);
    expect(s.total(40_000, T0 + 45_000)).toBe(4);
    s.add(1, T0 + 40_000); // takes the first slot's ring index
    expect(s.total(40_000, T0 + 45_000)).toBe(5);
  });
});
