import { describe, expect, it } from 'vitest';
import { QueueFullError, Semaphore } from './semaphore.ts';

describe('Semaphore', () => {
  it('never runs more than its limit, queues the rest in order, and reports its figures', async () => {
    const sem = new Semaphore(3);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const tasks = Array.from({ length: 10 }, (_, i) =>
      sem.run(async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise<void>((r) => gates.push(r));
        running--;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(sem.stats()).toEqual({ limit: 3, active: 3, queued: 7 });
    while (order.length < 10 || gates.length) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(tasks);
    expect(peak).toBe(3);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sem.stats()).toEqual({ limit: 3, active: 0, queued: 0 });
  });

  it('frees the slot when the task throws, and release twice is harmless', async () => {
    const sem = new Semaphore(1);
    await expect(sem.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const release = await sem.acquire();
    release();
    release();
    expect(sem.stats()).toEqual({ limit: 1, active: 0, queued: 0 });
  });

  it.each([0, -1, 1.5])('refuses limit %d', (limit) => expect(() => new Semaphore(limit)).toThrow());
});

describe('Semaphore bounds', () => {
  it('refuses a caller past the queue cap at once, and serves the queue in order', async () => {
    const sem = new Semaphore(1, 2);
    const first = await sem.acquire();
    const waiting = [sem.acquire(), sem.acquire()];
    await expect(sem.acquire()).rejects.toThrow(QueueFullError);
    expect(sem.stats()).toEqual({ limit: 1, active: 1, queued: 2 });
    expect(sem.hasRoom()).toBe(false);
    first();
    (await waiting[0])?.();
    (await waiting[1])?.();
    expect(sem.stats()).toEqual({ limit: 1, active: 0, queued: 0 });
  });

  it('takes a caller whose signal aborts out of the queue, and never gives it a slot', async () => {
    const sem = new Semaphore(1);
    const first = await sem.acquire();
    const gone = new AbortController();
    const abandoned = sem.acquire(gone.signal);
    const next = sem.acquire();
    gone.abort(new Error('client went away'));
    await expect(abandoned).rejects.toThrow('client went away');
    expect(sem.queued).toBe(1);
    first();
    (await next)();
    expect(sem.stats()).toEqual({ limit: 1, active: 0, queued: 0 });
    await expect(sem.acquire(AbortSignal.abort())).rejects.toThrow();
  });
});
