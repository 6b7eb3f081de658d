/**
 * Requests take turns with ingest. The HTTP surface shares the main thread's event loop with the
 * event socket, and one turn of that loop runs every callback that is ready: with hundreds of
 * scrapers waiting, a turn would answer all of them before the socket is read again. Each request
 * waits here for a turn of its own; at most `perTurn` go on per turn of the loop (a `setImmediate`
 * queued while immediates run waits for the next turn), so a storm costs ingest a bounded slice
 * of every turn instead of all of it. Answers are cheap (renders are shared, app.ts), so a small
 * slice keeps up.
 */
export function turnTaking(perTurn: number): () => Promise<void> {
  const waiting: (() => void)[] = [];
  let head = 0;
  let scheduled = false;
  const release = () => {
    const end = Math.min(waiting.length, head + perTurn);
    while (head < end) waiting[head++]!();
    if (head === waiting.length) {
      waiting.length = 0;
      head = 0;
      scheduled = false;
    } else setImmediate(release);
  };
  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (!scheduled) {
        scheduled = true;
        setImmediate(release);
      }
    });
}
