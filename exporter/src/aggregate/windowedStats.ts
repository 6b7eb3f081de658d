import { DDSketch } from './ddsketch.ts';

interface Slot {
  epoch: number; // slot start / slotMs
  sketch: DDSketch;
  errors: number;
  serverErrors: number;
  satisfied: number;
  tolerating: number;
}

/** What a window adds up to; `mergeWindow` adds into one of these across series. */
export interface WindowTotals {
  sketch: DDSketch;
  errors: number;
  serverErrors: number;
  /** Apdex: at or under T, and over T but at or under 4T. */
  satisfied: number;
  tolerating: number;
}

export function emptyTotals(): WindowTotals {
  return { sketch: new DDSketch(), errors: 0, serverErrors: 0, satisfied: 0, tolerating: 0 };
}

/**
 * Latency sketches of one series: lifetime, plus a ring of short slots merged on demand into any
 * window up to ring length x slot length. Slots are allocated only when events arrive.
 */
export class WindowedStats {
  readonly lifetime = new DDSketch();
  lifetimeErrors = 0;
  lifetimeServerErrors = 0;
  private readonly ring: (Slot | undefined)[];

  constructor(
    private readonly slotMs: number,
    slots: number,
    private readonly apdexT = Number.POSITIVE_INFINITY,
  ) {
    this.ring = new Array(slots);
  }

  record(durationS: number, status: number, nowMs: number): void {
    const bin = this.lifetime.indexOf(durationS);
    this.lifetime.acceptAt(durationS, bin);
    const slot = this.slotAt(nowMs);
    slot.sketch.acceptAt(durationS, bin);
    if (durationS <= this.apdexT) slot.satisfied++;
    else if (durationS <= 4 * this.apdexT) slot.tolerating++;
    if (status >= 400) {
      this.lifetimeErrors++;
      slot.errors++;
      if (status >= 500) {
        this.lifetimeServerErrors++;
        slot.serverErrors++;
      }
    }
  }

  /** The slots covering the last `windowMs` (rounded up to whole slots, current one included). */
  window(windowMs: number, nowMs: number): WindowTotals {
    const totals = emptyTotals();
    this.mergeWindow(totals, windowMs, nowMs);
    return totals;
  }

  mergeWindow(into: WindowTotals, windowMs: number, nowMs: number): void {
    const current = Math.floor(nowMs / this.slotMs);
    const oldest = current - Math.ceil(windowMs / this.slotMs) + 1;
    for (const slot of this.ring) {
      if (!slot || slot.epoch < oldest || slot.epoch > current) continue;
      into.sketch.merge(slot.sketch);
      into.errors += slot.errors;
      into.serverErrors += slot.serverErrors;
      into.satisfied += slot.satisfied;
      into.tolerating += slot.tolerating;
    }
  }

  private slotAt(nowMs: number): Slot {
    const epoch = Math.floor(nowMs / this.slotMs);
    const index = epoch % this.ring.length;
    let slot = this.ring[index];
    if (!slot) {
      slot = { epoch, sketch: new DDSketch(), errors: 0, serverErrors: 0, satisfied: 0, tolerating: 0 };
      this.ring[index] = slot;
    } else if (slot.epoch !== epoch) {
      slot.epoch = epoch;
      slot.sketch.reset();
      slot.errors = 0;
      slot.serverErrors = 0;
      slot.satisfied = 0;
      slot.tolerating = 0;
    }
    return slot;
  }
}
