import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { Poller } from './poller.ts';

describe('Poller logging', () => {
  function poller(results: boolean[]) {
    const clock = new ManualClock();
    const lines: string[] = [];
    const outcomes: boolean[] = [];
    const p = new Poller<number>({
      target: 'downloader',
      intervalMs: 1_000,
      timeoutMs: 500,
      poll: async () => {
        if (results.shift() === false) throw new Error('ECONNREFUSED');
        return 1;
      },
      observer: { polled: (_t, _s, ok) => outcomes.push(ok) },
      clock,
      log: (m) => lines.push(m),
    });
    return { p, clock, lines, outcomes };
  }

  it('keeps quiet about a target that is not up yet during the start-up grace, then logs once', async () => {
    const { p, clock, lines, outcomes } = poller([false, false, false, false, false, false, false, true]);
    for (let i = 0; i < 7; i++) {
      await p.pollNow();
      clock.advance(1_000);
    }
    expect(lines).toEqual(['exporter: polling downloader failed: ECONNREFUSED']); // after 5 s, once
    await p.pollNow();
    expect(lines.at(-1)).toBe('exporter: downloader is reachable again');
    expect(outcomes.filter((ok) => !ok)).toHaveLength(7);
  });

  it('says nothing when the target comes up within the grace, and logs a later outage at once', async () => {
    const { p, lines } = poller([false, true, false, true]);
    await p.pollNow();
    await p.pollNow();
    expect(lines).toEqual([]);
    await p.pollNow();
    expect(lines).toEqual(['exporter: polling downloader failed: ECONNREFUSED']);
    await p.pollNow();
    expect(lines).toEqual(['exporter: polling downloader failed: ECONNREFUSED', 'exporter: downloader is reachable again']);
  });

  it('counts a target unreachable after two failed polls in a row, not one, and never before it first answered', async () => {
    const { p } = poller([false, true, false, false, true]);
    const seen: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      await p.pollNow();
      seen.push(p.reachable);
    }
    // Not up yet; up; one failure (still reachable); two in a row (unreachable); up again.
    expect(seen).toEqual([false, true, true, false, true]);
    expect(p.failedInARow).toBe(0);
  });
});
