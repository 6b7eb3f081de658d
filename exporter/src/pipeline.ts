import {
  type DecodeResult,
  decodeBytes,
  EVENT_KINDS,
  type EventKind,
  REJECT_REASONS,
  type RejectReason,
  type TransportName,
} from '@dl/shared';
import type { DomainAggregator } from './aggregate/domainAggregator.ts';
import type { RequestAggregator } from './aggregate/requestAggregator.ts';
import { CounterFamily, type CounterSeries, type Family, HistogramFamily } from './metrics/families.ts';

const TRANSPORTS: readonly TransportName[] = ['socket', 'redis'];
const DELAY_BOUNDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface PipelineDeps {
  requests: RequestAggregator;
  domain: DomainAggregator;
  now: () => number;
  decode?: (line: Uint8Array) => DecodeResult;
  debug?: (message: string) => void;
}

/**
 * decoder -> aggregators, synchronously, one line at a time. Bad input never throws: each
 * rejection is counted under its reason and the next line goes on.
 */
export class Pipeline {
  readonly received = new CounterFamily('exporter_events_received_total', 'Valid events aggregated, by transport and kind.', [
    'transport',
    'kind',
  ]);
  readonly rejected = new CounterFamily('exporter_events_rejected_total', 'Lines rejected by the decoder, by reason.', [
    'reason',
  ]);
  readonly delay = new HistogramFamily(
    'exporter_event_delay_seconds',
    'Delay from the end of the work (event ts) to aggregation.',
    [],
    DELAY_BOUNDS,
  );
  private readonly delaySeries = this.delay.get();
  private readonly receivedBy: Record<TransportName, Record<EventKind, CounterSeries>>;
  private readonly rejectedBy: Record<RejectReason, CounterSeries>;
  private readonly decode: (line: Uint8Array) => DecodeResult;
  /** Lines seen in total, valid or not. */
  lines = 0;

  constructor(private readonly deps: PipelineDeps) {
    this.decode = deps.decode ?? decodeBytes;
    this.receivedBy = Object.fromEntries(
      TRANSPORTS.map((t) => [t, Object.fromEntries(EVENT_KINDS.map((k) => [k, this.received.get([t, k])]))]),
    ) as Record<TransportName, Record<EventKind, CounterSeries>>;
    this.rejectedBy = Object.fromEntries(REJECT_REASONS.map((r) => [r, this.rejected.get([r])])) as Record<
      RejectReason,
      CounterSeries
    >;
  }

  get families(): Family[] {
    return [this.received, this.rejected, this.delay];
  }

  get rejectedTotal(): number {
    let n = 0;
    for (const s of Object.values(this.rejectedBy)) n += s.value;
    return n;
  }

  get receivedTotal(): number {
    let n = 0;
    for (const byKind of Object.values(this.receivedBy)) for (const s of Object.values(byKind)) n += s.value;
    return n;
  }

  handleLine(line: Uint8Array, transport: TransportName): void {
    this.lines++;
    const result = this.decode(line);
    if (!result.ok) {
      this.rejectedBy[result.reason].value++;
      this.deps.debug?.(`rejected line: ${result.reason}`);
      return;
    }
    const event = result.event;
    const now = this.deps.now();
    this.receivedBy[transport][event.kind].value++;
    this.deps.domain.lastEventAt = now;
    this.delay.observe(this.delaySeries, Math.max(0, (now - event.ts) / 1000));
    if (event.kind === 'request') {
      this.deps.requests.record(event.endpoint, event.method, event.status, event.duration_s, now);
    } else {
      this.deps.domain.record(event);
    }
  }

  /** A line the transport rejected before decoding (too long to frame). */
  reject(reason: RejectReason): void {
    this.lines++;
    this.rejectedBy[reason].value++;
    this.deps.debug?.(`rejected line: ${reason}`);
  }
}
