// The global `performance` is a lazy getter on globalThis: every read calls it. The module's binding does not.
import { performance } from 'node:perf_hooks';
import { BINARY_ENCODING, type CacheEvent, type EventInput, type EventSink, type SinkEvents } from '@dl/shared';
import type { DownloaderConfig } from '../config.ts';
import { type EmitterLedger, emptyLedger, TelemetryEmitter } from './emitter.ts';
import { RedisStreamSink } from './redisStreamSink.ts';
import type { RequestRecorder } from './requestTiming.ts';
import { SocketSink } from './socketSink.ts';

/**
 * Wall-clock milliseconds (an event's `ts`) for a `performance.now()` reading the timed response
 * already took, so a request costs no clock read of its own (33 ns of a 15 us `/health` request
 * here). The offset between the two clocks is read again whenever the last read is 100 ms old, so
 * a step of the wall clock (NTP, a VM resumed) shows within 100 ms. Like `Date.now()`, a whole
 * millisecond, at most 1 ms early.
 */
export class WallClock {
  private offset = 0;
  private readAt = Number.NEGATIVE_INFINITY;

  at(perfMs: number): number {
    if (perfMs - this.readAt >= 100) {
      this.readAt = performance.now();
      this.offset = Date.now() - this.readAt;
    }
    return Math.floor(this.offset + perfMs);
  }
}

/** What the downloader sees of telemetry: record and forget. `off` is a no-op with the same shape. */
export interface Telemetry {
  readonly enabled: boolean;
  recordRequest: RequestRecorder;
  /** One cache lookup of a download (the other event of the hot path). */
  recordCache(result: CacheEvent['result'], format: CacheEvent['format']): void;
  emit(event: EventInput): void;
  ledger(): EmitterLedger;
  start(): void;
  /** Waits up to `timeoutMs` for every queued event to be acknowledged, then closes the transport. */
  stop(timeoutMs: number): Promise<void>;
}

/** The downloader's telemetry variables, exactly as the configuration parsed them. */
export type TelemetryConfig = Pick<
  DownloaderConfig,
  | 'EVENTS_TRANSPORT'
  | 'EVENTS_SOCKET'
  | 'EVENTS_STREAM'
  | 'EVENTS_STREAM_MAXLEN'
  | 'REDIS_URL'
  | 'INSTANCE'
  | 'EVENTS_BUFFER_EVENTS'
  | 'EVENTS_BUFFER_BYTES'
  | 'EVENTS_DROP_REPORT_S'
  | 'EVENTS_FLUSH_MS'
  | 'EVENTS_ENCODING'
>;

export interface TelemetryOptions {
  config: TelemetryConfig;
  version: string;
  startedAt: number;
  log?: (message: string) => void;
  /** A transport to write to instead of the configured one (the overhead benchmark's null sink). */
  sink?: (events: SinkEvents) => EventSink;
}

export function createTelemetry(options: TelemetryOptions): Telemetry {
  const { config } = options;
  if (config.EVENTS_TRANSPORT === 'off') {
    return {
      enabled: false,
      recordRequest: () => {},
      recordCache: () => {},
      emit: () => {},
      ledger: emptyLedger,
      start: () => {},
      stop: async () => {},
    };
  }
  const redisUrl = config.EVENTS_TRANSPORT === 'redis' ? config.REDIS_URL : undefined;
  const emitter = new TelemetryEmitter({
    // The Redis stream carries NDJSON: an entry has no connection to hold a dictionary.
    encoding: !redisUrl && config.EVENTS_ENCODING === 'binary' ? BINARY_ENCODING : 'ndjson',
    sink: (events) =>
      options.sink?.(events) ??
      (redisUrl
        ? new RedisStreamSink(
            { url: redisUrl, stream: config.EVENTS_STREAM, maxLength: config.EVENTS_STREAM_MAXLEN, log: options.log },
            events,
          )
        : new SocketSink({ path: config.EVENTS_SOCKET, log: options.log }, events)),
    hello: () => ({
      kind: 'hello',
      ts: Date.now(),
      instance: config.INSTANCE,
      pid: process.pid,
      version: options.version,
      started_at: options.startedAt,
    }),
    maxEvents: config.EVENTS_BUFFER_EVENTS,
    maxBytes: config.EVENTS_BUFFER_BYTES,
    dropReportMs: config.EVENTS_DROP_REPORT_S * 1000,
    flushIntervalMs: config.EVENTS_FLUSH_MS,
  });
  const wall = new WallClock();
  return {
    enabled: true,
    recordRequest: (endpoint, method, status, durationS, errorType, requestId, traceId, endMs) =>
      emitter.request(endpoint, method, status, durationS, wall.at(endMs), errorType, requestId, traceId),
    recordCache: (result, format) => emitter.cache(result, format, Date.now()),
    emit: (event) => emitter.emit(event),
    ledger: () => emitter.stats(),
    start: () => emitter.start(),
    stop: async (timeoutMs) => {
      await emitter.drain(timeoutMs);
      await emitter.close();
    },
  };
}
