/**
 * Logs unexpected errors once per kind per interval: the first with its stack, then a one-line count
 * of the repeats when the interval ends, so a flood of the same failure costs a few lines, not a
 * stack per request. The kind is the error's name and the first line of its message.
 */
export function createErrorLog(
  log: (message: string) => void = (m) => console.error(m),
  intervalMs = 60_000,
  now: () => number = Date.now,
): (err: unknown) => void {
  const seen = new Map<string, { since: number; repeats: number }>();
  return (err) => {
    const e = err instanceof Error ? err : new Error(String(err));
    const kind = `${e.name}: ${e.message.split('\n')[0]?.slice(0, 200)}`;
    const t = now();
    const entry = seen.get(kind);
    if (entry && t - entry.since < intervalMs) {
      entry.repeats++;
      return;
    }
    if (entry?.repeats)
      log(`downloader: ${entry.repeats} more of "${kind}" in the last ${Math.round((t - entry.since) / 1000)} s`);
    if (seen.size >= 1000) seen.clear(); // bounded whatever the messages
    seen.set(kind, { since: t, repeats: 0 });
    log(`downloader: unhandled error ${e.stack ?? kind}`);
  };
}
