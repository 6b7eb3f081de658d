/**
 * Time for everything in the exporter that depends on it: the series sweeper, the history sampler,
 * the pollers' schedules and every "now". Tests hand in a ManualClock and drive time themselves.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` every `ms` until the returned function is called. Never keeps the process alive. */
  every(ms: number, fn: () => void): () => void;
  /** Calls `fn` once after `ms`, unless the returned function is called first. */
  after(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: Date.now,
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

interface Timer {
  at: number;
  every: number | undefined;
  fn: () => void;
}

/** A clock that moves only when told to; due timers run in time order during `advance`. */
export class ManualClock implements Clock {
  private readonly timers = new Set<Timer>();

  constructor(private t = 1_764_000_000_000) {}

  now(): number {
    return this.t;
  }

  every(ms: number, fn: () => void): () => void {
    return this.add({ at: this.t + ms, every: ms, fn });
  }

  after(ms: number, fn: () => void): () => void {
    return this.add({ at: this.t + ms, every: undefined, fn });
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const timer of this.timers) if (timer.at <= end && (!next || timer.at < next.at)) next = timer;
      if (!next) break;
      this.t = next.at;
      if (next.every === undefined) this.timers.delete(next);
      else next.at += next.every;
      next.fn();
    }
    this.t = end;
  }

  /** Timers still scheduled (a stopped component leaves none). */
  get pending(): number {
    return this.timers.size;
  }

  private add(timer: Timer): () => void {
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }
}
