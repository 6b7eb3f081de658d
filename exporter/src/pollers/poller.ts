import { CounterFamily, type CounterSeries, type Family, HistogramFamily, type HistogramSeries } from '../metrics/families.ts';

/** Poll duration and errors for every polled target, shared by all pollers. */
export class PollMetrics {
  readonly duration = new HistogramFamily(
    'exporter_poll_duration_seconds',
    'Duration of each poll of a target.',
    ['target'],
    [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5],
  );
  readonly errors = new CounterFamily('exporter_poll_errors_total', 'Failed polls by target.', ['target']);

  get families(): Family[] {
    return [this.duration, this.errors];
  }

  series(target: string): { duration: HistogramSeries; errors: CounterSeries } {
    return { duration: this.duration.get([target]), errors: this.errors.get([target]) };
  }
}

export interface PollerOptions<T> {
  /** Label value and log name: `downloader`, `redis`. */
  target: string;
  intervalMs: number;
  timeoutMs: number;
  poll: (signal: AbortSignal) => Promise<T>;
  metrics: PollMetrics;
  now?: () => number;
  log?: (message: string) => void;
}

/**
 * Polls one target on its own timer, with a timeout. Keeps the last good value and whether the
 * target is up; logs only changes of state, so a target that stays down costs one line.
 */
export class Poller<T> {
  up = false;
  value: T | undefined;
  lastSuccessAt: number | undefined;
  /** The good value before `value`, for rates between two polls. */
  previous: { value: T; at: number } | undefined;
  lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly series: { duration: HistogramSeries; errors: CounterSeries };
  private readonly now: () => number;
  private readonly log: (message: string) => void;

  constructor(private readonly options: PollerOptions<T>) {
    this.series = options.metrics.series(options.target);
    this.now = options.now ?? Date.now;
    this.log = options.log ?? ((m) => console.error(m));
  }

  start(): void {
    this.stopped = false;
    const loop = async () => {
      await this.pollNow();
      if (this.stopped) return;
      // A target that is down is retried within a second, so a start-up race heals quickly.
      this.timer = setTimeout(loop, this.up ? this.options.intervalMs : Math.min(this.options.intervalMs, 1_000));
      this.timer.unref();
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  async pollNow(): Promise<void> {
    const started = performance.now();
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const value = await this.options.poll(signal);
      if (this.value !== undefined && this.lastSuccessAt !== undefined)
        this.previous = { value: this.value, at: this.lastSuccessAt };
      this.value = value;
      this.lastSuccessAt = this.now();
      if (!this.up && this.lastError !== undefined) this.log(`exporter: ${this.options.target} is reachable again`);
      this.up = true;
      this.lastError = undefined;
    } catch (err) {
      const reason = signal.aborted ? `timed out after ${this.options.timeoutMs} ms` : describe(err);
      if (this.up || this.lastError === undefined) this.log(`exporter: polling ${this.options.target} failed: ${reason}`);
      this.up = false;
      this.lastError = reason;
      this.series.errors.value++;
    } finally {
      this.options.metrics.duration.observe(this.series.duration, (performance.now() - started) / 1000);
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code;
    return code ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}
