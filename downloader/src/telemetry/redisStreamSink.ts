import { randomBytes } from 'node:crypto';
import { createRedisClient, type EventSink, type SinkEvents, STREAM_FIELDS } from '@dl/shared';
import type { Redis } from 'ioredis';

export interface RedisStreamSinkOptions {
  url: string;
  stream: string;
  /** Approximate cap on the stream's length (XADD MAXLEN ~). */
  maxLength: number;
  /** XADDs in flight before `send` asks the emitter to wait for `onDrain`. */
  maxInFlight?: number;
  log?: (message: string) => void;
}

/**
 * Redis stream transport, downloader side. One XADD carries every line of a flush in one field, so
 * a batch costs one round trip. A batch counts as delivered (acknowledged) once Redis has stored it;
 * the exporter's consumer group takes it from there. The client never queues commands while
 * disconnected, so a slow or absent Redis never holds the request path: lines stay in the emitter's
 * bounded buffer and are resent after the reconnect.
 */
export class RedisStreamSink implements EventSink {
  private readonly client: Redis;
  /** This emitter's name in the stream: random, so a restarted downloader's numbers start afresh. */
  private readonly emitter = randomBytes(8).toString('hex');
  private usable = false;
  private inFlight = 0;
  private epoch = 0; // bumps on every disconnect, so late replies from a dead connection are ignored
  private reportedDown = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly log: (message: string) => void;

  constructor(
    private readonly options: RedisStreamSinkOptions,
    private readonly events: SinkEvents,
  ) {
    this.log = options.log ?? ((m) => console.error(m));
    this.client = createRedisClient(options.url, { lazy: true });
    this.client.on('ready', () => this.up());
    this.client.on('close', () => this.down('connection closed'));
    this.client.on('error', (err: Error) => this.down(err.message));
  }

  get ready(): boolean {
    return this.usable;
  }

  start(): void {
    this.client.connect().catch(() => {}); // failures arrive as 'error' events; retries are automatic
  }

  send(lines: Buffer, count: number, seq: number, unnumbered: number): boolean {
    if (!this.usable) return false;
    const epoch = this.epoch;
    this.inFlight++;
    // Every entry names its emitter and its lines' sequence numbers (STREAM_FIELDS), so the exporter
    // counts a batch resent after a lost answer once.
    const fields = unnumbered ? [STREAM_FIELDS.unnumbered, unnumbered] : [];
    this.client
      .xadd(
        this.options.stream,
        'MAXLEN',
        '~',
        this.options.maxLength,
        '*',
        STREAM_FIELDS.count,
        count,
        STREAM_FIELDS.emitter,
        this.emitter,
        STREAM_FIELDS.seq,
        seq,
        ...fields,
        STREAM_FIELDS.lines,
        lines,
      )
      .then(
        () => {
          if (epoch !== this.epoch) return;
          this.inFlight--;
          this.events.onAck(count);
          if (this.inFlight === (this.options.maxInFlight ?? 4) - 1) this.events.onDrain();
        },
        (err: Error) => {
          if (epoch !== this.epoch) return;
          // A reply lost with its connection may still have been stored: resending makes delivery
          // at-least-once, never lossy. Any failure restarts delivery from the oldest unacknowledged line.
          this.down(err.message);
          this.scheduleRecovery();
        },
      );
    return this.inFlight < (this.options.maxInFlight ?? 4);
  }

  async close(): Promise<void> {
    clearTimeout(this.retry);
    this.usable = false;
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private up(): void {
    if (this.usable) return;
    this.usable = true;
    if (this.reportedDown) this.log(`telemetry: Redis stream ${this.options.stream} reachable again`);
    this.reportedDown = false;
    this.events.onConnect();
  }

  private down(reason: string): void {
    if (!this.reportedDown) {
      this.log(`telemetry: Redis stream unavailable (${reason}); buffering and retrying quietly`);
      this.reportedDown = true;
    }
    if (!this.usable) return;
    this.usable = false;
    this.epoch++;
    this.inFlight = 0;
    this.events.onDisconnect();
  }

  /** After a failed XADD on a live connection (e.g. OOM), try again shortly. */
  private scheduleRecovery(): void {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (this.client.status === 'ready') this.up();
      else if (!this.usable) this.scheduleRecovery();
    }, 500);
    this.retry.unref();
  }
}
