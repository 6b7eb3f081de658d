import { describe, expect, it } from 'vitest';
import { SharedFetches } from './sharedFetches.ts';

class Gone extends Error {}

function harness() {
  const started: { key: string; signal: AbortSignal; resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  const shared = new SharedFetches<string>(
    (key, signal) =>
      new Promise((resolve, reject) => {
        started.push({ key, signal, resolve, reject });
      }),
    () => new Gone('gone'),
  );
  return { shared, started };
}

describe('SharedFetches', () => {
  it('five concurrent callers of one key share one fetch and its value; another key has its own', async () => {
    const { shared, started } = harness();
    const callers = Array.from({ length: 5 }, () => shared.run('a', new AbortController().signal));
    const other = shared.run('b', new AbortController().signal);
    expect(started.map((s) => s.key)).toEqual(['a', 'b']);
    started[0]?.resolve('A');
    started[1]?.resolve('B');
    expect(await Promise.all(callers)).toEqual(['A', 'A', 'A', 'A', 'A']);
    expect(await other).toBe('B');
    expect(shared.size).toBe(0);
    // Settled: the next caller fetches again (no caching here).
    void shared.run('a', new AbortController().signal);
    expect(started).toHaveLength(3);
  });

  it('shares an error with every caller', async () => {
    const { shared, started } = harness();
    const callers = [shared.run('a', new AbortController().signal), shared.run('a', new AbortController().signal)];
    started[0]?.reject(new Error('HTTP 500'));
    for (const c of callers) await expect(c).rejects.toThrow('HTTP 500');
  });

  it('a caller that leaves is answered at once; the fetch goes on for the others, and stops when the last leaves', async () => {
    const { shared, started } = harness();
    const [first, second] = [new AbortController(), new AbortController()];
    const a = shared.run('k', first.signal);
    const b = shared.run('k', second.signal);
    first.abort();
    await expect(a).rejects.toBeInstanceOf(Gone);
    expect(started[0]?.signal.aborted).toBe(false);
    second.abort();
    await expect(b).rejects.toBeInstanceOf(Gone);
    expect(started[0]?.signal.aborted).toBe(true);
    expect(shared.size).toBe(0);
    // A new caller after everyone left starts afresh rather than joining the aborted fetch.
    const c = shared.run('k', new AbortController().signal);
    expect(started).toHaveLength(2);
    started[1]?.resolve('fresh');
    expect(await c).toBe('fresh');
  });

  it('refuses a caller that is already gone without starting anything', async () => {
    const { shared, started } = harness();
    const gone = new AbortController();
    gone.abort();
    await expect(shared.run('k', gone.signal)).rejects.toBeInstanceOf(Gone);
    expect(started).toHaveLength(0);
  });
});
