/** Prometheus native histogram schema 5: bucket i holds (2^((i-1)/32), 2^(i/32)]. */
export const NATIVE_SCHEMA = 5;
/** The DDSketch alpha whose gamma is 2^(2^-5): its bins are exactly schema 5's buckets (about 1.08 %). */
export const SCHEMA_5_ALPHA = (2 ** (1 / 32) - 1) / (2 ** (1 / 32) + 1);

/**
 * DDSketch (Masson, Rim, Lee, VLDB 2019): a quantile sketch with relative-error guarantees. Values
 * land in logarithmic bins of ratio gamma; a quantile is answered with the bin's midpoint, so its
 * relative error is at most alpha. Bins are a dense array that grows to the range of values seen.
 * With the default alpha the bins are a native histogram's schema-5 buckets, index for index, so
 * one structure answers the JSON percentiles and the native histograms that merge across pods.
 */
export class DDSketch {
  private counts = new Float64Array(0);
  private offset = 0; // bin index of counts[0]
  private zeros = 0; // values below MIN_VALUE (including 0)
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  static readonly MIN_VALUE = 1e-9;
  private readonly gamma: number;
  private readonly lnGamma: number;

  constructor(readonly alpha = SCHEMA_5_ALPHA) {
    this.gamma = (1 + alpha) / (1 - alpha);
    this.lnGamma = Math.log(this.gamma);
  }

  /** Adds one non-negative value. */
  accept(value: number): void {
    this.acceptAt(value, this.indexOf(value));
  }

  /** The bin of `value`; sketches with the same alpha share it, so callers feeding several compute it once. */
  indexOf(value: number): number {
    return value < DDSketch.MIN_VALUE ? Number.NEGATIVE_INFINITY : Math.ceil(Math.log(value) / this.lnGamma);
  }

  /** Adds `value`, `n` times over, whose bin `indexOf` already computed. */
  acceptAt(value: number, index: number, n = 1): void {
    this.count += n;
    this.sum += n === 1 ? value : value * n;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (index === Number.NEGATIVE_INFINITY) {
      this.zeros += n;
      return;
    }
    let slot = index - this.offset;
    if (slot < 0 || slot >= this.counts.length) slot = this.grow(index);
    this.counts[slot] = (this.counts[slot] as number) + n;
  }

  /** Adds every value of `other` (same alpha). */
  merge(other: DDSketch): void {
    if (other.count === 0) return;
    this.count += other.count;
    this.sum += other.sum;
    this.zeros += other.zeros;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    const src = other.counts;
    for (let i = 0; i < src.length; i++) {
      const n = src[i] as number;
      if (n === 0) continue;
      const index = other.offset + i;
      let slot = index - this.offset;
      if (slot < 0 || slot >= this.counts.length) slot = this.grow(index);
      this.counts[slot] = (this.counts[slot] as number) + n;
    }
  }

  /** The value at quantile q (0..1), within alpha relative error; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    const rank = q * (this.count - 1);
    if (rank < this.zeros) return 0;
    let seen = this.zeros;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] as number;
      if (seen > rank) {
        const estimate = (2 * this.gamma ** (this.offset + i)) / (this.gamma + 1);
        return Math.min(Math.max(estimate, this.min), this.max);
      }
    }
    return this.max;
  }

  /**
   * The bins as a native histogram's positive buckets: spans of consecutive non-empty bins (the first
   * span's offset is its bucket index, each next one's the gap since the previous span) and each
   * bin's count as a delta from the bin before. Exact only with the default (schema 5) alpha.
   */
  nativeBuckets(): { zeroCount: number; spans: { offset: number; length: number }[]; deltas: number[] } {
    const spans: { offset: number; length: number }[] = [];
    const deltas: number[] = [];
    let previous = 0;
    let lastIndex: number | undefined;
    for (let i = 0; i < this.counts.length; i++) {
      const n = this.counts[i] as number;
      if (n === 0) continue;
      const index = this.offset + i;
      const span = spans.at(-1);
      if (span && lastIndex === index - 1) span.length++;
      else spans.push({ offset: lastIndex === undefined ? index : index - lastIndex - 1, length: 1 });
      deltas.push(n - previous);
      previous = n;
      lastIndex = index;
    }
    return { zeroCount: this.zeros, spans, deltas };
  }

  reset(): void {
    this.counts.fill(0);
    this.zeros = 0;
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }

  /** Widens the dense array to include `index` (with slack), returning its slot. */
  private grow(index: number): number {
    if (this.counts.length === 0) {
      this.offset = index - 8;
      this.counts = new Float64Array(32);
      return index - this.offset;
    }
    const lo = Math.min(this.offset, index - 8);
    const hi = Math.max(this.offset + this.counts.length, index + 9);
    const next = new Float64Array(hi - lo);
    next.set(this.counts, this.offset - lo);
    this.counts = next;
    this.offset = lo;
    return index - lo;
  }
}
