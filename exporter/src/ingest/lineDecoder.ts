import {
  BinaryFrameReader,
  type CacheVisitor,
  type DecodeResult,
  decodeBytes,
  EVENT_KINDS,
  type EventKind,
  REJECT_REASONS,
  type RejectReason,
  RequestLineReader,
  type RequestVisitor,
  readCacheLine,
  type TransportName,
} from '@dl/shared';
import type { EventConsumer } from '../aggregate/aggregator.ts';
import { SLOT_MS, slotsFor } from '../aggregate/slotWindow.ts';
import { WindowedStats } from '../aggregate/windowedStats.ts';
import { HEALTH_WINDOW_MAX_S } from '../config.ts';
import { CounterFamily, type CounterSeries, type Family, HistogramFamily, type HistogramSeries } from '../exposition/families.ts';

const TRANSPORTS: readonly TransportName[] = ['socket', 'redis'];
const DELAY_BOUNDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface LineDecoderDeps {
  next: EventConsumer;
  now: () => number;
}

/**
 * Lines -> events, synchronously, one line at a time, handed to the next stage. Canonical request
 * and cache lines take the exact byte-level readers; everything else the general decoder. Bad input
 * never throws: each rejection is counted under its reason and the next line goes on.
 */
export class LineDecoder {
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
  private readonly delaySeries: HistogramSeries = this.delay.get();
  /** Event delay over recent 10 s slots (the longest health window), for the health score's telemetry factor. */
  readonly recentDelay = new WindowedStats(SLOT_MS, slotsFor(HEALTH_WINDOW_MAX_S * 1000, SLOT_MS));
  private readonly receivedBy: Record<TransportName, Record<EventKind, CounterSeries>>;
  private readonly rejectedBy: Record<RejectReason, CounterSeries>;
  private readonly reader = new RequestLineReader();
  private readonly visitors: Record<TransportName, RequestVisitor>;
  private readonly cacheVisitors: Record<TransportName, CacheVisitor>;

  constructor(private readonly deps: LineDecoderDeps) {
    this.receivedBy = Object.fromEntries(
      TRANSPORTS.map((t) => [t, Object.fromEntries(EVENT_KINDS.map((k) => [k, this.received.get([t, k])]))]),
    ) as Record<TransportName, Record<EventKind, CounterSeries>>;
    this.rejectedBy = Object.fromEntries(REJECT_REASONS.map((r) => [r, this.rejected.get([r])])) as Record<
      RejectReason,
      CounterSeries
    >;
    this.visitors = {
      socket: this.requestVisitor(this.receivedBy.socket.request),
      redis: this.requestVisitor(this.receivedBy.redis.request),
    };
    this.cacheVisitors = {
      socket: this.cacheVisitor(this.receivedBy.socket.cache),
      redis: this.cacheVisitor(this.receivedBy.redis.cache),
    };
  }

  get families(): Family[] {
    return [this.received, this.rejected, this.delay];
  }

  /** Lines rejected so far, every reason (read per chunk by the socket receiver: a plain field). */
  rejectedTotal = 0;

  get receivedTotal(): number {
    let n = 0;
    for (const byKind of Object.values(this.receivedBy)) for (const s of Object.values(byKind)) n += s.value;
    return n;
  }

  /** The time of the chunk being read (0: none), so a chunk's events cost one clock read, not one each. */
  private chunkNow = 0;

  private now(): number {
    return this.chunkNow || this.deps.now();
  }

  /** Runs `read` (one chunk's worth of lines or frames) with one clock reading for all its events. */
  chunk<T>(read: () => T): T {
    this.chunkNow = this.deps.now();
    try {
      return read();
    } finally {
      this.observeRun();
      this.chunkNow = 0;
    }
  }

  /** Aggregates or rejects the line `bytes[start, end)` (newline excluded). */
  handleLine(bytes: Uint8Array, start: number, end: number, transport: TransportName): void {
    if (this.reader.read(bytes, start, end, this.visitors[transport])) return;
    if (readCacheLine(bytes, start, end, this.cacheVisitors[transport])) return;
    this.handleDecoded(decodeBytes(bytes, start, end), transport);
  }

  /** A reader of one connection's binary frames, feeding this decoder exactly as lines do. */
  binaryReader(transport: TransportName): BinaryFrameReader {
    return new BinaryFrameReader({
      request: this.visitors[transport],
      cache: this.cacheVisitors[transport],
      event: (bytes, start, end) => this.handleLine(bytes, start, end, transport),
      reject: (reason) => this.reject(reason),
    });
  }

  /** A line the transport rejected before decoding (too long to frame). */
  reject(reason: RejectReason): void {
    this.rejectedBy[reason].value++;
    this.rejectedTotal++;
  }

  private handleDecoded(result: DecodeResult, transport: TransportName): void {
    if (!result.ok) {
      this.reject(result.reason);
      return;
    }
    const event = result.event;
    const now = this.now();
    this.receivedBy[transport][event.kind].value++;
    this.observeDelay(now, event.ts);
    this.deps.next.event(event, now);
  }

  /**
   * Within a chunk every event is aggregated at the same time, and events written in the same
   * millisecond carry the same `ts`: their delays are equal. A run of them is observed once, with its
   * count, when the run ends or the chunk does (a batch of 1,250 events spans about 50 values), so the
   * histogram and the window's sketch count every event without a logarithm each (a fifth of the
   * exporter's CPU per event at full speed when each was observed on its own).
   */
  private runNow = 0;
  private runTs = 0;
  private runLength = 0;

  private observeDelay(now: number, ts: number): void {
    if (this.runLength > 0 && ts === this.runTs && now === this.runNow) {
      this.runLength++;
      return;
    }
    this.observeRun();
    this.runNow = now;
    this.runTs = ts;
    this.runLength = 1;
    if (this.chunkNow === 0) this.observeRun(); // outside a chunk: nothing would end the run
  }

  /** Observes the pending run of equal delays, if any. */
  private observeRun(): void {
    const n = this.runLength;
    if (n === 0) return;
    this.runLength = 0;
    const now = this.runNow;
    const delay = now > this.runTs ? (now - this.runTs) / 1000 : 0;
    this.delay.observe(this.delaySeries, delay, n);
    this.recentDelay.record(delay, 0, 'none', now, n);
  }

  private cacheVisitor(received: CounterSeries): CacheVisitor {
    const { next } = this.deps;
    return (ts, result) => {
      const t = this.now();
      received.value++;
      this.observeDelay(t, ts);
      next.cache(result, t);
    };
  }

  private requestVisitor(received: CounterSeries): RequestVisitor {
    const { next } = this.deps;
    return (ts, endpoint, method, status, durationS, errorType, traceId) => {
      const t = this.now();
      received.value++;
      this.observeDelay(t, ts);
      next.request(endpoint, method, status, durationS, t, errorType, traceId);
    };
  }
}
