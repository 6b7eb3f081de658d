/**
 * One computation shared by every caller: while it runs, callers wait for it; for `reuseMs` after it
 * finishes, callers get its result. So a scrape storm (hundreds of clients at once) costs one render
 * per view, and ingest, which shares the event loop, keeps most of it.
 */
export function shared<K, V>(compute: (key: K) => V | Promise<V>, reuseMs: number, now: () => number): (key: K) => Promise<V> {
  const entries = new Map<K, { pending: Promise<V> | undefined; value: V | undefined; at: number }>();
  return (key) => {
    let e = entries.get(key);
    if (e?.pending) return e.pending;
    if (e && e.value !== undefined && now() - e.at <= reuseMs) return Promise.resolve(e.value);
    if (!e) {
      e = { pending: undefined, value: undefined, at: 0 };
      entries.set(key, e);
    }
    const entry = e;
    entry.pending = Promise.resolve()
      .then(() => compute(key))
      .then(
        (value) => {
          entry.value = value;
          entry.at = now();
          entry.pending = undefined;
          return value;
        },
        (err: unknown) => {
          entry.pending = undefined;
          throw err;
        },
      );
    return entry.pending;
  };
}
