/**
 * The ring slots a window of the last `windowMs` reads: every slot that holds an event of that
 * window, from the one `windowMs` ago to the current one. The window so covers at least `windowMs`
 * and at most one slot more (`spanMs`, what rates divide by): a 10 s window over 10 s slots is the
 * current slot and the one before it, never only a slot that may have begun a moment ago.
 */
export function slotWindow(windowMs: number, nowMs: number, slotMs: number): { oldest: number; current: number; spanMs: number } {
  const oldest = Math.floor((nowMs - windowMs) / slotMs);
  return { oldest, current: Math.floor(nowMs / slotMs), spanMs: nowMs - oldest * slotMs };
}

/** The ring length that holds every slot of a window up to `maxWindowMs` long. */
export const slotsFor = (maxWindowMs: number, slotMs: number): number => Math.ceil(maxWindowMs / slotMs) + 1;

/** The slot length of every windowed figure. */
export const SLOT_MS = 10_000;

/** `/metrics/performance`'s windows. */
export const PERFORMANCE_WINDOWS = { '1m': 60_000, '5m': 300_000 } as const;
export const PERFORMANCE_WINDOW_MAX_MS = PERFORMANCE_WINDOWS['5m'];
