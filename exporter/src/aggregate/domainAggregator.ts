import {
  CACHE_RESULTS,
  type DomainEvent,
  type HelloEvent,
  JOB_STATUSES,
  PDF_OUTCOMES,
  UPSTREAM_OUTCOMES,
  unreachable,
  WEBHOOK_OUTCOMES,
} from '@dl/shared';
import { HEALTH_WINDOW_MAX_S } from '../config.ts';
import { CounterFamily, type CounterSeries, type Family, HistogramFamily } from '../exposition/families.ts';
import type { DDSketch } from './ddsketch.ts';
import { FetchWindow } from './fetchWindow.ts';
import { SlidingSum } from './slidingSum.ts';
import { SLOT_MS, slotsFor } from './slotWindow.ts';
import { WindowedStats } from './windowedStats.ts';

const DURATION_BOUNDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60];

/** Counters keyed by one closed label, every value present at 0 from start-up. */
function closedCounter(name: string, help: string, label: string, values: readonly string[]) {
  const family = new CounterFamily(name, help, [label]);
  const series = new Map<string, CounterSeries>(values.map((v) => [v, family.get([v])]));
  return {
    family,
    inc: (value: string, by = 1) => ((series.get(value) as CounterSeries).value += by),
    value: (v: string) => series.get(v)?.value ?? 0,
  };
}

/** An outcome counter (closed set) and the duration histogram of the same work. */
function timedOutcomes(
  counter: [name: string, help: string],
  values: readonly string[],
  histogram: [name: string, help: string],
  native?: DDSketch,
) {
  const outcomes = closedCounter(counter[0], counter[1], 'outcome', values);
  const durations = new HistogramFamily(histogram[0], histogram[1], [], DURATION_BOUNDS);
  const series = durations.get([], native);
  return {
    families: [outcomes.family, durations] as Family[],
    record: (outcome: string, durationS: number) => {
      outcomes.inc(outcome);
      durations.observe(series, durationS);
    },
  };
}

/** Every event but `request`: upstream fetches, cache, PDF, webhooks, jobs, drops, hellos. */
export class DomainAggregator {
  /** Upstream fetch durations over recent 10 s slots, for the live view; its lifetime sketch is the native histogram. */
  readonly upstreamRecent = new WindowedStats(10_000, 30);
  private readonly upstream = timedOutcomes(
    ['downloader_upstream_requests_total', 'Fetches of remote URLs by outcome.'],
    UPSTREAM_OUTCOMES,
    ['downloader_upstream_duration_seconds', 'Duration of remote fetches, retries included.'],
    this.upstreamRecent.lifetime,
  );
  private readonly retries = new CounterFamily('downloader_upstream_retries_total', 'Retries of remote fetches.');
  private readonly retriesSeries = this.retries.get();
  private readonly cache = closedCounter(
    'downloader_cache_lookups_total',
    'Content-cache lookups by result.',
    'result',
    CACHE_RESULTS,
  );
  private readonly pdf = timedOutcomes(['downloader_pdf_renders_total', 'PDF renders by outcome.'], PDF_OUTCOMES, [
    'downloader_pdf_render_duration_seconds',
    'PDF render duration.',
  ]);
  private readonly webhook = timedOutcomes(
    ['downloader_webhook_deliveries_total', 'Webhook deliveries by final outcome.'],
    WEBHOOK_OUTCOMES,
    ['downloader_webhook_delivery_duration_seconds', 'Webhook delivery duration, retries included.'],
  );
  private readonly jobs = closedCounter('downloader_batch_jobs_total', 'Batch job state changes.', 'status', JOB_STATUSES);
  private readonly dropped = new CounterFamily(
    'downloader_telemetry_events_dropped_total',
    "Events the downloader's emitter dropped because its buffer was full.",
  );
  private readonly droppedSeries = this.dropped.get();
  /** Fetches, unreachable ones and their distinct hosts per 10 s slot over 30 minutes: the egress check. */
  readonly fetchesRecent = new FetchWindow(SLOT_MS, slotsFor(HEALTH_WINDOW_MAX_S * 1000, SLOT_MS));
  /** Drops reported per 10 s slot over the last 30 minutes, for the health window. */
  readonly droppedRecent = new SlidingSum(SLOT_MS, slotsFor(HEALTH_WINDOW_MAX_S * 1000, SLOT_MS));
  /** The latest hello: who is sending, since when. */
  lastHello: HelloEvent | undefined;

  get families(): Family[] {
    return [
      ...this.upstream.families,
      this.retries,
      this.cache.family,
      ...this.pdf.families,
      ...this.webhook.families,
      this.jobs.family,
      this.dropped,
    ];
  }

  /** The fast path's cache lookup (no event object built). */
  recordCache(result: 'hit' | 'miss' | 'error'): void {
    this.cache.inc(result);
  }

  /** Lifetime cache lookups by result. */
  cacheTotals(): { hit: number; miss: number; error: number } {
    return { hit: this.cache.value('hit'), miss: this.cache.value('miss'), error: this.cache.value('error') };
  }

  get droppedTotal(): number {
    return this.droppedSeries.value;
  }

  record(event: DomainEvent, nowMs: number): void {
    switch (event.kind) {
      case 'upstream':
        this.upstream.record(event.outcome, event.duration_s);
        this.upstreamRecent.record(
          event.duration_s,
          event.outcome === 'ok' ? 200 : 502,
          event.outcome === 'ok' ? 'none' : 'target',
          nowMs,
        );
        this.retriesSeries.value += event.retries;
        this.fetchesRecent.record(event.outcome === 'network' || event.outcome === 'timeout', event.host_hash, nowMs);
        return;
      case 'cache':
        this.cache.inc(event.result);
        return;
      case 'pdf':
        this.pdf.record(event.outcome, event.duration_s);
        return;
      case 'webhook':
        this.webhook.record(event.outcome, event.duration_s);
        return;
      case 'job':
        this.jobs.inc(event.status);
        return;
      case 'dropped':
        this.droppedSeries.value += event.count;
        this.droppedRecent.add(event.count, nowMs);
        return;
      case 'hello':
        this.lastHello = event;
        return;
      default:
        unreachable(event);
    }
  }
}
