import { type EventInput, type EventSink, encodeEvent, type SinkEvents } from '@dl/shared';

/** The emitter's public ledger. Invariant: emitted = acknowledged + dropped + buffered. */
export interface EmitterLedger {
  emitted: number;
  acknowledged: number;
  dropped: number;
  buffered: number;
  buffered_bytes: number;
  connected: boolean;
  connects: number;
}

export function emptyLedger(): EmitterLedger {
  return { emitted: 0, acknowledged: 0, dropped: 0, buffered: 0, buffered_bytes: 0, connected: false, connects: 0 };
}

export interface EmitterOptions {
  /** Builds the transport; it reports back through the given callbacks. */
  sink: (events: SinkEvents) => EventSink;
  /** Announces this process on every (re)connect. */
  hello: () => EventInput;
  /** EVENTS_BUFFER_EVENTS and EVENTS_BUFFER_BYTES: the buffer's caps, unacknowledged events included. */
  maxEvents: number;
  maxBytes: number;
  /** EVENTS_DROP_REPORT_S: how often unreported drops are sent as a `dropped` event while drops happen. */
  dropReportMs: number;
  /** EVENTS_FLUSH_MS: longest an event waits before it is written (a write per request would cost a syscall each). */
  flushIntervalMs: number;
  /** Unsent lines that trigger a write on the next turn instead of waiting for the interval. */
  flushLines?: number;
  now?: () => number;
}

/**
 * Most lines one write carries. A backlog (the resend after a reconnect: up to the whole buffer) goes
 * out in slices on successive event-loop turns, so no turn spends more than about a millisecond on it
 * and requests keep their latency while the exporter catches up.
 */
const SLICE_LINES = 1024;

// Entry kinds in the queue. Only DATA counts in the ledger; HELLO is never resent on a new connection.
const DATA = 0;
const HELLO = 1;
const DROPPED = 2;

/**
 * Non-blocking, acknowledged event emitter. `emit` only appends to a bounded queue; one write,
 * at most every `flushIntervalMs` (or on the next turn when many lines wait), sends everything unsent. Entries stay queued until the exporter acknowledges them,
 * and are resent after a reconnect, so delivery is at-least-once and every loss is a counted drop.
 */
export class TelemetryEmitter {
  private lines: string[] = [];
  private kinds: number[] = [];
  private head = 0; // first unacknowledged entry
  private sent = 0; // first entry not yet written on the current connection
  private flushTimer: NodeJS.Timeout | undefined;
  private flushImmediate = false;
  private waitingDrain = false;
  private unreportedDrops = 0;
  private readonly ledger = emptyLedger();
  private readonly flushIntervalMs: number;
  private readonly flushLines: number;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly sink: EventSink;
  private readonly dropTimer: NodeJS.Timeout;
  private readonly flushNow = () => this.flush();

  constructor(private readonly options: EmitterOptions) {
    this.maxEvents = options.maxEvents;
    this.flushIntervalMs = options.flushIntervalMs;
    this.flushLines = options.flushLines ?? 256;
    this.maxBytes = options.maxBytes;
    this.now = options.now ?? Date.now;
    this.sink = options.sink({
      onConnect: () => this.onConnect(),
      onDisconnect: () => this.onDisconnect(),
      onAck: (n) => this.onAck(n),
      onDrain: () => {
        this.waitingDrain = false;
        this.schedule();
      },
    });
    this.dropTimer = setInterval(() => this.reportDrops(), options.dropReportMs);
    this.dropTimer.unref();
  }

  start(): void {
    this.sink.start();
  }

  /** Queues one event. Synchronous; never throws, never waits. */
  emit(event: EventInput): void {
    this.emitLine(encodeEvent(event));
  }

  /** Queues one pre-encoded, newline-terminated line (the request hot path). */
  emitLine(line: string): void {
    const l = this.ledger;
    l.emitted++;
    if (l.buffered >= this.maxEvents || l.buffered_bytes + line.length > this.maxBytes) {
      l.dropped++;
      this.unreportedDrops++;
      return;
    }
    l.buffered++;
    l.buffered_bytes += line.length;
    this.lines.push(line);
    this.kinds.push(DATA);
    if (!this.flushImmediate) this.schedule();
  }

  stats(): EmitterLedger {
    return { ...this.ledger };
  }

  /** Resolves true once every queued event is acknowledged, false on timeout. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length - this.head > 0) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.dropTimer);
    clearTimeout(this.flushTimer);
    await this.sink.close();
  }

  /** A write within `flushIntervalMs`, or on the next turn once `flushLines` are waiting. */
  private schedule(): void {
    if (this.waitingDrain || !this.sink.ready || this.sent >= this.lines.length) return;
    if (this.lines.length - this.sent >= this.flushLines) {
      if (!this.flushImmediate) {
        this.flushImmediate = true;
        setImmediate(this.flushNow);
      }
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(this.flushNow, this.flushIntervalMs);
      this.flushTimer.unref();
    }
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushImmediate = false;
    if (this.waitingDrain || !this.sink.ready) return;
    const end = Math.min(this.lines.length, this.sent + SLICE_LINES);
    if (this.sent >= end) return;
    const chunk = this.sent === end - 1 ? (this.lines[this.sent] as string) : this.lines.slice(this.sent, end).join('');
    const count = end - this.sent;
    this.sent = end;
    if (!this.sink.send(chunk, count)) this.waitingDrain = true;
    else this.schedule(); // the rest of a backlog, on a later turn
  }

  private onAck(count: number): void {
    const l = this.ledger;
    const end = Math.min(this.head + count, this.sent);
    for (let i = this.head; i < end; i++) {
      if (this.kinds[i] === DATA) {
        l.acknowledged++;
        l.buffered--;
        l.buffered_bytes -= (this.lines[i] as string).length;
      }
    }
    this.head = end;
    this.compact();
  }

  private onConnect(): void {
    this.ledger.connected = true;
    this.ledger.connects++;
    // Everything unacknowledged is resent after a fresh hello; old hellos are obsolete.
    const lines: string[] = [encodeEvent(this.options.hello())];
    const kinds: number[] = [HELLO];
    if (this.unreportedDrops > 0) {
      lines.push(this.droppedLine());
      kinds.push(DROPPED);
    }
    for (let i = this.head; i < this.lines.length; i++) {
      if (this.kinds[i] === HELLO) continue;
      lines.push(this.lines[i] as string);
      kinds.push(this.kinds[i] as number);
    }
    this.lines = lines;
    this.kinds = kinds;
    this.head = 0;
    this.sent = 0;
    this.waitingDrain = false;
    this.schedule();
  }

  private onDisconnect(): void {
    this.ledger.connected = false;
    this.waitingDrain = false;
    this.sent = this.head;
  }

  private reportDrops(): void {
    if (this.unreportedDrops === 0 || !this.sink.ready) return;
    this.lines.push(this.droppedLine());
    this.kinds.push(DROPPED);
    this.schedule();
  }

  private droppedLine(): string {
    const line = encodeEvent({ kind: 'dropped', ts: this.now(), count: this.unreportedDrops });
    this.unreportedDrops = 0;
    return line;
  }

  private compact(): void {
    if (this.head < 4096 || this.head * 2 < this.lines.length) return;
    this.lines = this.lines.slice(this.head);
    this.kinds = this.kinds.slice(this.head);
    this.sent -= this.head;
    this.head = 0;
  }
}
