import { describe, expect, it } from 'vitest';
import { Breakers } from './breaker.ts';

describe('Breakers', () => {
  const make = () => {
    let t = 1_000_000;
    const b = new Breakers({ failureThreshold: 3, cooldownMs: 1_000, forgetMs: 10_000, now: () => t });
    return { b, advance: (ms: number) => (t += ms) };
  };

  it('opens after consecutive failures, half-opens after the cool-down with one trial, closes on success', () => {
    const { b, advance } = make();
    for (let i = 0; i < 3; i++) b.failure('a');
    expect(b.allow('a')).toBe(false);
    expect(b.counts()).toEqual({ closed: 0, open: 1, half_open: 0 });
    advance(1_000);
    expect(b.counts()).toEqual({ closed: 0, open: 0, half_open: 1 });
    expect(b.allow('a')).toBe(true);
    expect(b.allow('a')).toBe(false); // one trial at a time
    b.failure('a'); // the trial failed: open again, from now
    expect(b.state('a')).toBe('open');
    advance(1_000);
    expect(b.allow('a')).toBe(true);
    b.success('a');
    expect(b.counts()).toEqual({ closed: 0, open: 0, half_open: 0 });
  });

  it('forgets hosts without news, so 200,000 hosts that failed once cost nothing an hour later', () => {
    const { b, advance } = make();
    for (let i = 0; i < 200_000; i++) b.failure(`host-${i}`);
    expect(b.counts().closed).toBe(200_000);
    advance(10_000);
    const started = performance.now();
    expect(b.counts()).toEqual({ closed: 0, open: 0, half_open: 0 });
    b.failure('late');
    expect(b.counts()).toEqual({ closed: 1, open: 0, half_open: 0 });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('keeps counting open breakers in order of opening while some have cooled down', () => {
    const { b, advance } = make();
    for (let i = 0; i < 3; i++) b.failure('first');
    advance(600);
    for (let i = 0; i < 3; i++) b.failure('second');
    advance(500); // first cooled down (1,100 ms), second not (500 ms)
    expect(b.counts()).toEqual({ closed: 0, open: 1, half_open: 1 });
  });
});
