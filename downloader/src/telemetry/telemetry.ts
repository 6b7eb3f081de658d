import { type EventInput, encodeRequestLine } from '@dl/shared';
import { type EmitterLedger, emptyLedger, TelemetryEmitter } from './emitter.ts';
import { RedisStreamSink } from './redisStreamSink.ts';
import type { RequestRecorder } from './requestTiming.ts';
import { SocketSink } from './socketSink.ts';

/** What the downloader sees of telemetry: record and forget. `off` is a no-op with the same shape. */
export interface Telemetry {
  readonly enabled: boolean;
  recordRequest: RequestRecorder;
  emit(event: EventInput): void;
  ledger(): EmitterLedger;
  start(): void;
  /** Waits up to `timeoutMs` for every queued event to be acknowledged, then closes the transport. */
  stop(timeoutMs: number): Promise<void>;
}

export interface TelemetryOptions {
  transport: 'socket' | 'redis' | 'off';
  socketPath: string;
  /** With transport `redis`. */
  redisUrl?: string;
  stream?: string;
  streamMaxLength?: number;
  instance: string;
  version: string;
  startedAt: number;
  maxEvents?: number;
  maxBytes?: number;
  dropReportMs?: number;
  flushIntervalMs?: number;
  log?: (message: string) => void;
}

export function createTelemetry(options: TelemetryOptions): Telemetry {
  if (options.transport === 'off') {
    return {
      enabled: false,
      recordRequest: () => {},
      emit: () => {},
      ledger: emptyLedger,
      start: () => {},
      stop: async () => {},
    };
  }
  const emitter = new TelemetryEmitter({
    sink: (events) =>
      options.transport === 'redis'
        ? new RedisStreamSink(
            {
              url: options.redisUrl ?? 'redis://127.0.0.1:6379',
              stream: options.stream ?? 'downloader:events',
              maxLength: options.streamMaxLength ?? 100_000,
              log: options.log,
            },
            events,
          )
        : new SocketSink({ path: options.socketPath, log: options.log }, events),
    hello: () => ({
      kind: 'hello',
      ts: Date.now(),
      instance: options.instance,
      pid: process.pid,
      version: options.version,
      started_at: options.startedAt,
    }),
    maxEvents: options.maxEvents,
    maxBytes: options.maxBytes,
    dropReportMs: options.dropReportMs,
    flushIntervalMs: options.flushIntervalMs,
  });
  return {
    enabled: true,
    recordRequest: (endpoint, method, status, durationS) =>
      emitter.emitLine(encodeRequestLine(endpoint, method, status, durationS, Date.now())),
    emit: (event) => emitter.emit(event),
    ledger: () => emitter.stats(),
    start: () => emitter.start(),
    stop: async (timeoutMs) => {
      await emitter.drain(timeoutMs);
      await emitter.close();
    },
  };
}
