/**
 * Concurrent fetches of one key share a single fetch: the first caller starts it, callers that come
 * while it runs join it, and all get its result (or its error). A caller that goes away is answered
 * at once with `gone()`; the shared fetch itself is aborted only when the last of its callers has
 * gone. Nothing is kept after the fetch settles: this is not a cache.
 */
export class SharedFetches<T> {
  private readonly inflight = new Map<string, { promise: Promise<T>; controller: AbortController; callers: number }>();

  constructor(
    private readonly start: (key: string, signal: AbortSignal) => Promise<T>,
    private readonly gone: () => Error,
  ) {}

  /** How many fetches are running (for tests and stats). */
  get size(): number {
    return this.inflight.size;
  }

  run(key: string, signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(this.gone());
    let entry = this.inflight.get(key);
    if (!entry) {
      const controller = new AbortController();
      const fresh = { promise: this.start(key, controller.signal), controller, callers: 0 };
      const forget = () => {
        if (this.inflight.get(key) === fresh) this.inflight.delete(key);
      };
      fresh.promise.then(forget, forget);
      this.inflight.set(key, fresh);
      entry = fresh;
    }
    const shared = entry;
    shared.callers++;
    return new Promise<T>((resolve, reject) => {
      const leave = () => {
        reject(this.gone());
        if (--shared.callers === 0) {
          shared.controller.abort();
          if (this.inflight.get(key) === shared) this.inflight.delete(key);
        }
      };
      signal.addEventListener('abort', leave, { once: true });
      shared.promise.then(
        (value) => {
          signal.removeEventListener('abort', leave);
          resolve(value);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', leave);
          reject(err);
        },
      );
    });
  }
}
