import { type CacheEvent, causeOf, type RequestEvent, type TelemetryEvent } from '@dl/shared';
import type { DomainAggregator } from './domainAggregator.ts';
import type { RequestAggregator } from './requestAggregator.ts';

/** What the ingest stage hands every accepted event to, with the time it was aggregated. */
export interface EventConsumer {
  request(
    endpoint: string,
    method: RequestEvent['method'],
    status: number,
    durationS: number,
    nowMs: number,
    errorType?: RequestEvent['error_type'],
    traceId?: string,
  ): void;
  cache(result: CacheEvent['result'], nowMs: number): void;
  event(event: TelemetryEvent, nowMs: number): void;
}

/**
 * The aggregate stage as the ingest stage sees it: every accepted event lands here, from the exact
 * fast readers (fields only, no event object) or from the general decoder (a whole event).
 */
export class Aggregator implements EventConsumer {
  /** When the last valid event arrived (epoch ms; 0 before the first). */
  lastEventAt = 0;

  constructor(
    readonly requests: RequestAggregator,
    readonly domain: DomainAggregator,
  ) {}

  readonly request: EventConsumer['request'] = (endpoint, method, status, durationS, nowMs, errorType, traceId) => {
    this.lastEventAt = nowMs;
    this.requests.record(endpoint, method, status, durationS, nowMs, causeOf(status, errorType), traceId);
  };

  cache(result: CacheEvent['result'], nowMs: number): void {
    this.lastEventAt = nowMs;
    this.domain.recordCache(result);
  }

  event(event: TelemetryEvent, nowMs: number): void {
    if (event.kind === 'request')
      this.request(event.endpoint, event.method, event.status, event.duration_s, nowMs, event.error_type, event.trace_id);
    else {
      this.lastEventAt = nowMs;
      this.domain.record(event, nowMs);
    }
  }
}
