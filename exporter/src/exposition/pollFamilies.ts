import type { PollObserver } from '../poll/poller.ts';
import { CounterFamily, type CounterSeries, type Family, HistogramFamily, type HistogramSeries } from './families.ts';

/** Poll duration and failures for every polled target: the exposition's side of the pollers' observer. */
export class PollFamilies implements PollObserver {
  readonly duration = new HistogramFamily(
    'exporter_poll_duration_seconds',
    'Duration of each poll of a target.',
    ['target'],
    [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5],
  );
  readonly errors = new CounterFamily('exporter_poll_errors_total', 'Failed polls by target.', ['target']);
  private readonly byTarget = new Map<string, { duration: HistogramSeries; errors: CounterSeries }>();

  /** Each target's series exist from start-up at 0. */
  constructor(targets: readonly string[]) {
    for (const t of targets) this.series(t);
  }

  get families(): Family[] {
    return [this.duration, this.errors];
  }

  polled(target: string, seconds: number, ok: boolean): void {
    const s = this.series(target);
    this.duration.observe(s.duration, seconds);
    if (!ok) s.errors.value++;
  }

  private series(target: string): { duration: HistogramSeries; errors: CounterSeries } {
    let s = this.byTarget.get(target);
    if (!s) {
      s = { duration: this.duration.get([target]), errors: this.errors.get([target]) };
      this.byTarget.set(target, s);
    }
    return s;
  }
}
