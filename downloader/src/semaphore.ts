/** Thrown by `acquire` when the queue is at its cap: the caller answers 503 instead of waiting. */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * A counting semaphore with a bounded FIFO queue: the PDF and batch pools. Its figures (limit,
 * active, queued) are what `/internal/stats` reports and what the saturation factor scores.
 */
export class Semaphore {
  private busy = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    readonly limit: number,
    /** Most callers that may wait for a slot; past it `acquire` throws QueueFullError. */
    readonly maxQueue = Number.POSITIVE_INFINITY,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`semaphore limit must be a positive integer, got ${limit}`);
  }

  get active(): number {
    return this.busy;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** Whether `n` more callers could be taken now: the free slots, then the room left in the queue. */
  hasRoom(n = 1): boolean {
    const free = Math.max(0, this.limit - this.busy);
    return this.waiters.length + Math.max(0, n - free) <= this.maxQueue;
  }

  /**
   * Resolves with a release function once a slot is free; release is idempotent. Throws at once when
   * the queue is full; rejects (and leaves the queue) when `signal` aborts while waiting.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.busy < this.limit) {
      this.busy++;
    } else {
      if (this.waiters.length >= this.maxQueue) throw new QueueFullError(`queue full (${this.maxQueue} waiting)`);
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { resolve, reject };
        this.waiters.push(waiter);
        signal?.addEventListener(
          'abort',
          () => {
            const i = this.waiters.indexOf(waiter);
            if (i < 0) return; // already handed a slot
            this.waiters.splice(i, 1);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next)
        next.resolve(); // the slot passes straight to the next waiter
      else this.busy--;
    };
  }

  /** Runs `task` in a slot (see `acquire` for a full queue and `signal`). */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await task();
    } finally {
      release();
    }
  }

  stats(): { limit: number; active: number; queued: number } {
    return { limit: this.limit, active: this.busy, queued: this.waiters.length };
  }
}
