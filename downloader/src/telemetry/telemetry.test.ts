import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WallClock } from './telemetry.ts';

describe('WallClock', () => {
  afterEach(() => vi.restoreAllMocks());

  it('gives the wall-clock millisecond of a performance.now() reading, at most 1 ms early', () => {
    const wall = new WallClock();
    for (let i = 0; i < 1000; i++) {
      const before = Date.now();
      const ts = wall.at(performance.now());
      const after = Date.now();
      expect(Number.isInteger(ts)).toBe(true);
      expect(ts).toBeGreaterThanOrEqual(before - 1);
      expect(ts).toBeLessThanOrEqual(after);
    }
  });

  it('follows a step of the wall clock once its last read is 100 ms old, not before', () => {
    const wall = new WallClock();
    const t0 = performance.now();
    const ts0 = wall.at(t0);
    // The wall clock steps an hour ahead (NTP, a resumed VM); performance.now() does not.
    const stepped = vi.spyOn(Date, 'now').mockImplementation(() => ts0 + 3_600_000 + (performance.now() - t0));
    expect(wall.at(t0 + 50) - ts0).toBeLessThan(60);
    expect(stepped).not.toHaveBeenCalled();
    expect(wall.at(t0 + 150) - ts0).toBeGreaterThanOrEqual(3_600_000 + 148);
    expect(stepped).toHaveBeenCalledTimes(1);
  });
});
