import { slotWindow } from './slotWindow.ts';

/** A count over a sliding window of slots (drops reported, for the health score). */
export class SlidingSum {
  private readonly epochs: Float64Array;
  private readonly sums: Float64Array;

  constructor(
    private readonly slotMs: number,
    slots: number,
  ) {
    this.epochs = new Float64Array(slots).fill(-1);
    this.sums = new Float64Array(slots);
  }

  add(value: number, nowMs: number): void {
    const epoch = Math.floor(nowMs / this.slotMs);
    const i = epoch % this.sums.length;
    if (this.epochs[i] !== epoch) {
      this.epochs[i] = epoch;
      this.sums[i] = 0;
    }
    this.sums[i] = (this.sums[i] as number) + value;
  }

  total(windowMs: number, nowMs: number): number {
    const { oldest, current } = slotWindow(windowMs, nowMs, this.slotMs);
    let sum = 0;
    for (let i = 0; i < this.sums.length; i++) {
      const e = this.epochs[i] as number;
      if (e >= oldest && e <= current) sum += this.sums[i] as number;
    }
    return sum;
  }
}
