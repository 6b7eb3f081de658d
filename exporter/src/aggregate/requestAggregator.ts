import { type CauseLabel, causeOf } from '@dl/shared';
import { CounterFamily, type CounterSeries, type Family, HistogramFamily, type HistogramSeries } from '../exposition/families.ts';
import { PERFORMANCE_WINDOW_MAX_MS, SLOT_MS, slotsFor, slotWindow } from './slotWindow.ts';
import { emptyTotals, WindowedStats, type WindowTotals } from './windowedStats.ts';

export const OVERFLOW_ENDPOINT = '__overflow__';

export interface RequestAggregatorOptions {
  /** Histogram bounds in seconds; must include Apdex T, 4T, the latency SLO and 3 s. */
  bounds: readonly number[];
  /** Most (endpoint, method) series kept; past it, events go to `endpoint="__overflow__"`. */
  seriesLimit: number;
  /** Apdex T in seconds: the windows count satisfied (<= T) and tolerating (<= 4T) requests. */
  apdexT?: number;
  slotMs?: number;
  slots?: number;
}

interface StatusCounters {
  readonly key: number;
  readonly status: number;
  requests: CounterSeries;
  errors: CounterSeries | undefined;
}

/** One series per (status, cause): the key packs both into a number, so no string is built per event. */
const statusKey = (status: number, cause: CauseLabel) => status * 4 + CAUSE_INDEX[cause];
const CAUSE_INDEX: Record<CauseLabel, number> = { none: 0, client: 1, target: 2, service: 3 };

interface RequestSeries {
  readonly endpoint: string;
  readonly method: string;
  readonly histogram: HistogramSeries;
  /** Keyed by statusKey(status, cause). */
  readonly statuses: Map<number, StatusCounters>;
  readonly stats: WindowedStats;
  lastSeen: number;
  /** The status series the last event of this series counted in. */
  lastStatus: StatusCounters | undefined;
}

/**
 * RED metrics from `request` events: the seed's three families plus per-endpoint quantile sketches.
 * Series are capped (overflow series) and expire when unseen for the TTL.
 */
export class RequestAggregator {
  readonly requests = new CounterFamily(
    'downloader_requests_total',
    'Requests served by the downloader; cause: whose failure (none, client, target, service).',
    ['endpoint', 'method', 'status', 'cause'],
  );
  readonly errors = new CounterFamily(
    'downloader_errors_total',
    'Requests answered with status >= 400; cause: the client, the target, or the service itself.',
    ['endpoint', 'method', 'status', 'cause'],
  );
  readonly responseTime: HistogramFamily;
  /** Keyed `{METHOD}_{endpoint}`, as in /metrics/performance. */
  private readonly series = new Map<string, RequestSeries>();
  /** endpoint -> method -> series: the hot-path lookup, with no key string built per event. */
  private readonly index = new Map<string, Map<string, RequestSeries>>();
  /** The series the last event counted in (cleared when a sweep removes series). */
  private last: RequestSeries | undefined;
  private readonly slotMs: number;
  private readonly slots: number;
  overflowed = 0;
  expired = 0;

  constructor(private readonly options: RequestAggregatorOptions) {
    this.responseTime = new HistogramFamily(
      'downloader_response_time_seconds',
      'Downloader response time in seconds, until the response headers were decided.',
      ['endpoint', 'method'],
      options.bounds,
    );
    this.slotMs = options.slotMs ?? SLOT_MS;
    this.slots = options.slots ?? slotsFor(PERFORMANCE_WINDOW_MAX_MS, this.slotMs);
  }

  get families(): Family[] {
    return [this.requests, this.errors, this.responseTime];
  }

  get seriesCount(): number {
    return this.series.size;
  }

  /** One finished request; `cause` is whose failure it was (`none` below 400), from its error type. */
  record(
    endpoint: string,
    method: string,
    status: number,
    durationS: number,
    nowMs: number,
    cause: CauseLabel = causeOf(status, undefined),
    traceId?: string,
  ): void {
    // Consecutive events mostly share their series and status (a batch of one endpoint's traffic):
    // the last ones found are checked first, by identity for the strings (a connection's endpoint
    // dictionary hands out the same string each time), before any map is asked.
    let s = this.last;
    if (s === undefined || s.endpoint !== endpoint || s.method !== method) {
      s = this.index.get(endpoint)?.get(method) ?? this.createSeries(endpoint, method, nowMs);
      this.last = s;
    }
    s.lastSeen = nowMs;
    const key = statusKey(status, cause);
    let c = s.lastStatus;
    if (c === undefined || c.key !== key) {
      c = s.statuses.get(key);
      if (!c) {
        const labels = [s.endpoint, s.method, String(status), cause];
        c = { key, status, requests: this.requests.get(labels), errors: status >= 400 ? this.errors.get(labels) : undefined };
        s.statuses.set(key, c);
      }
      s.lastStatus = c;
    }
    c.requests.value++;
    if (c.errors) c.errors.value++;
    this.responseTime.observe(s.histogram, durationS);
    if (traceId) this.responseTime.exemplar(s.histogram, durationS, traceId, nowMs);
    s.stats.record(durationS, status, cause, nowMs);
  }

  /** Removes series unseen for `ttlMs`; returns how many went. */
  sweep(nowMs: number, ttlMs: number): number {
    let removed = 0;
    for (const [key, s] of this.series) {
      if (nowMs - s.lastSeen < ttlMs) continue;
      for (const c of s.statuses.values()) {
        this.requests.remove(c.requests);
        if (c.errors) this.errors.remove(c.errors);
      }
      this.responseTime.remove(s.histogram);
      this.series.delete(key);
      if (this.last === s) this.last = undefined;
      const byMethod = this.index.get(s.endpoint);
      byMethod?.delete(s.method);
      if (byMethod?.size === 0) this.index.delete(s.endpoint);
      removed++;
    }
    this.expired += removed;
    return removed;
  }

  /** Every live series' windows, keyed `{METHOD}_{endpoint}` as in /metrics/performance. */
  *entries(): Iterable<[key: string, stats: WindowedStats]> {
    for (const [key, s] of this.series) yield [key, s.stats];
  }

  /** Lifetime request counts by status class (`2xx` ...), for the live view's status distribution. */
  statusClassTotals(): Record<'1xx' | '2xx' | '3xx' | '4xx' | '5xx', number> {
    const totals = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
    for (const s of this.series.values()) {
      for (const c of s.statuses.values()) totals[`${Math.floor(c.status / 100)}xx` as keyof typeof totals] += c.requests.value;
    }
    return totals;
  }

  /** How long a window of the last `windowMs` really spans (at least that, up to a slot more): what its rates divide by. */
  windowSpanMs(windowMs: number, nowMs: number): number {
    return slotWindow(windowMs, nowMs, this.slotMs).spanMs;
  }

  /** Every series' last `windowMs` added up: the health score's traffic figures. */
  windowTotals(windowMs: number, nowMs: number): WindowTotals {
    const totals = emptyTotals();
    for (const s of this.series.values()) s.stats.mergeWindow(totals, windowMs, nowMs);
    return totals;
  }

  private createSeries(endpoint: string, method: string, nowMs: number): RequestSeries {
    if (this.series.size >= this.options.seriesLimit) {
      this.overflowed++;
      const key = `${method}_${OVERFLOW_ENDPOINT}`;
      const existing = this.series.get(key);
      if (existing) return existing;
      endpoint = OVERFLOW_ENDPOINT;
    }
    const stats = new WindowedStats(this.slotMs, this.slots, this.options.apdexT);
    const s: RequestSeries = {
      endpoint,
      method,
      // The lifetime sketch sees every value the histogram does: it is the histogram's native form.
      histogram: this.responseTime.get([endpoint, method], stats.lifetime),
      statuses: new Map(),
      stats,
      lastSeen: nowMs,
      lastStatus: undefined,
    };
    this.series.set(`${method}_${endpoint}`, s);
    let byMethod = this.index.get(endpoint);
    if (!byMethod) {
      byMethod = new Map();
      this.index.set(endpoint, byMethod);
    }
    byMethod.set(method, s);
    return s;
  }
}
