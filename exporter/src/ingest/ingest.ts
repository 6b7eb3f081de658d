import type { EventConsumer } from '../aggregate/aggregator.ts';
import type { Clock } from '../clock.ts';
import type { ExporterConfig } from '../config.ts';
import { LineDecoder } from './lineDecoder.ts';
import { SocketReceiver } from './socketReceiver.ts';
import { StreamReceiver } from './streamReceiver.ts';

export interface IngestDeps {
  config: ExporterConfig;
  next: EventConsumer;
  clock: Clock;
  log?: (message: string) => void;
}

/** The ingest stage: the configured receiver (socket, Redis stream or none) feeding one decoder. */
export function createIngest({ config, next, clock, log }: IngestDeps) {
  const decoder = new LineDecoder({ next, now: () => clock.now() });
  const socket =
    config.EVENTS_TRANSPORT === 'socket'
      ? new SocketReceiver({
          path: config.EVENTS_SOCKET,
          mode: config.EVENTS_SOCKET_MODE,
          onLine: (bytes, start, end) => decoder.handleLine(bytes, start, end, 'socket'),
          binaryReader: () => decoder.binaryReader('socket'),
          chunk: (read) => decoder.chunk(read),
          ackDelayMs: config.EVENTS_ACK_MS,
          onTooLong: () => decoder.reject('too_long'),
          onTruncated: () => decoder.reject('truncated'),
          rejected: () => decoder.rejectedTotal,
          garbageBytesPerSecond: config.EVENTS_GARBAGE_BYTES_PER_S || Number.POSITIVE_INFINITY,
        })
      : undefined;
  const stream =
    config.EVENTS_TRANSPORT === 'redis' && config.REDIS_URL
      ? new StreamReceiver({
          url: config.REDIS_URL,
          stream: config.EVENTS_STREAM,
          group: config.EVENTS_GROUP,
          consumer: config.EVENTS_CONSUMER,
          onLine: (bytes, start, end) => decoder.handleLine(bytes, start, end, 'redis'),
          chunk: (read) => decoder.chunk(read),
          log,
        })
      : undefined;
  return {
    decoder,
    /** Whether events can arrive: the socket listens or the stream's Redis connection is up. */
    ready: () => (socket ? socket.listening : stream ? stream.connected : true),
    connections: () => socket?.connections ?? 0,
    throttled: () => socket?.throttled ?? 0,
    duplicates: () => stream?.duplicates ?? 0,
    async start(): Promise<void> {
      await socket?.start();
      await stream?.start();
    },
    async close(): Promise<void> {
      await socket?.close();
      await stream?.close();
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;
