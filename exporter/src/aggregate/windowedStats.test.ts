import { describe, expect, it } from 'vitest';
import { SlidingSum } from './slidingSum.ts';
import { slotsFor, slotWindow } from './slotWindow.ts';
import { WindowedStats } from './windowedStats.ts';

const T0 = 1_764_000_000_000; // a multiple of 10 s

describe('WindowedStats', () => {
  it('adds up the slots holding the window and leaves older ones out', () => {
    const w = new WindowedStats(10_000, 8, 0.5);
    w.record(0.1, 200, 'none', T0); // satisfied
    w.record(1.5, 404, 'client', T0 + 10_000); // tolerating (<= 4T), the caller's error
    w.record(3, 503, 'service', T0 + 20_000); // frustrated, our error
    w.record(2.5, 502, 'target', T0 + 20_000); // frustrated, the target's error
    const all = w.window(30_000, T0 + 25_000);
    expect(all).toMatchObject({ errors: 3, serviceErrors: 1, targetErrors: 1, satisfied: 1, tolerating: 1 });
    expect(all.sketch.count).toBe(4);
    expect(w.window(10_000, T0 + 25_000).sketch.count).toBe(3); // back to T0 + 15 s: the slot from T0 + 10 s on
    expect(w.window(60_000, T0 + 50_000).sketch.count).toBe(4);
    expect(w.window(60_000, T0 + 60_000).sketch.count).toBe(4); // T0 is exactly 60 s ago: still in
    expect(w.window(60_000, T0 + 70_000).sketch.count).toBe(3); // the first slot left the window
    expect(w.lifetime.count).toBe(4);
    expect(w.lifetimeErrors).toBe(3);
  });

  it('never leaves out an event of the window, however far into the current slot', () => {
    // The health score judges HEALTH_WINDOW (10 s at least) over 10 s slots: a window of the current
    // slot alone would hold a few milliseconds of traffic just after a slot began.
    const w = new WindowedStats(10_000, slotsFor(10_000, 10_000));
    for (let i = 0; i < 100; i++) w.record(0.01, 200, 'none', T0 + 9_000 + i * 10); // the last second of a slot
    for (const nowMs of [T0 + 10_000, T0 + 10_001, T0 + 15_000, T0 + 18_999]) {
      expect(w.window(10_000, nowMs).sketch.count).toBe(100);
    }
    expect(w.window(10_000, T0 + 20_000).sketch.count).toBe(0); // all of them more than 10 s old
    for (let ms = 0; ms < 10_000; ms += 250) {
      const span = slotWindow(10_000, T0 + ms, 10_000).spanMs;
      expect(span).toBeGreaterThanOrEqual(10_000);
      expect(span).toBeLessThan(20_000);
    }
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
    const s = new SlidingSum(10_000, 5);
    s.add(3, T0);
    s.add(4, T0 + 15_000);
    expect(s.total(20_000, T0 + 15_000)).toBe(7);
    expect(s.total(10_000, T0 + 15_000)).toBe(7); // back to T0 + 5 s: inside the first slot
    expect(s.total(10_000, T0 + 25_000)).toBe(4); // back to T0 + 15 s: the first slot is older
    expect(s.total(40_000, T0 + 45_000)).toBe(7);
    expect(s.total(40_000, T0 + 50_000)).toBe(4); // T0's slot is more than 40 s old
    s.add(1, T0 + 50_000); // takes the first slot's ring index
    expect(s.total(40_000, T0 + 50_000)).toBe(5);
  });
});
