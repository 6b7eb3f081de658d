import type { CauseLabel } from '@dl/shared';
import { DDSketch } from './ddsketch.ts';
import { slotWindow } from './slotWindow.ts';

/** What a window adds up to; `mergeWindow` adds into one of these across series. */
export interface WindowTotals {
  sketch: DDSketch;
  /** Every answer >= 400, whoever's fault. */
  errors: number;
  /** Failures of the service itself, and of the targets it fetched (error causes `service`, `target`). */
  serviceErrors: number;
  targetErrors: number;
  /** Apdex: at or under T, and over T but at or under 4T. */
  satisfied: number;
  tolerating: number;
}

interface Slot extends WindowTotals {
  epoch: number; // slot start / slotMs
}

const COUNTS = ['errors', 'serviceErrors', 'targetErrors', 'satisfied', 'tolerating'] as const;

export function emptyTotals(): WindowTotals {
  return { sketch: new DDSketch(), errors: 0, serviceErrors: 0, targetErrors: 0, satisfied: 0, tolerating: 0 };
}

/**
 * Latency sketches of one series: lifetime, plus a ring of short slots merged on demand into any
 * window up to ring length x slot length. Slots are allocated only when events arrive.
 */
export class WindowedStats {
  readonly lifetime = new DDSketch();
  lifetimeErrors = 0;
  private readonly ring: (Slot | undefined)[];

  constructor(
    private readonly slotMs: number,
    slots: number,
    private readonly apdexT = Number.POSITIVE_INFINITY,
  ) {
    this.ring = new Array(slots);
  }

  /** One value (`n` equal ones: the event delays of one batch that share a timestamp). */
  record(durationS: number, status: number, cause: CauseLabel, nowMs: number, n = 1): void {
    const bin = this.lifetime.indexOf(durationS);
    this.lifetime.acceptAt(durationS, bin, n);
    const slot = this.slotAt(nowMs);
    slot.sketch.acceptAt(durationS, bin, n);
    if (durationS <= this.apdexT) slot.satisfied += n;
    else if (durationS <= 4 * this.apdexT) slot.tolerating += n;
    if (status >= 400) {
      this.lifetimeErrors += n;
      slot.errors += n;
    }
    if (cause === 'service') slot.serviceErrors += n;
    else if (cause === 'target') slot.targetErrors += n;
  }

  /** The slots holding the last `windowMs` (`slotWindow`: at least that long, at most a slot more). */
  window(windowMs: number, nowMs: number): WindowTotals {
    const totals = emptyTotals();
    this.mergeWindow(totals, windowMs, nowMs);
    return totals;
  }

  mergeWindow(into: WindowTotals, windowMs: number, nowMs: number): void {
    const { oldest, current } = slotWindow(windowMs, nowMs, this.slotMs);
    for (const slot of this.ring) {
      if (!slot || slot.epoch < oldest || slot.epoch > current) continue;
      into.sketch.merge(slot.sketch);
      for (const k of COUNTS) into[k] += slot[k];
    }
  }

  private slotAt(nowMs: number): Slot {
    const epoch = Math.floor(nowMs / this.slotMs);
    const index = epoch % this.ring.length;
    let slot = this.ring[index];
    if (!slot) {
      slot = { epoch, ...emptyTotals() };
      this.ring[index] = slot;
    } else if (slot.epoch !== epoch) {
      slot.epoch = epoch;
      slot.sketch.reset();
      for (const k of COUNTS) slot[k] = 0;
    }
    return slot;
  }
}
