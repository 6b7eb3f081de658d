import {
  BINARY_ENCODING,
  CACHE_FRAME_BYTES,
  type CacheEvent,
  type ErrorType,
  type EventEncoding,
  type EventInput,
  type EventSink,
  encodeCacheLine,
  encodeEvent,
  encodeRequestLine,
  type HelloEvent,
  MAX_ENDPOINT_BYTES,
  MAX_ENDPOINT_IDS,
  MAX_LINE_BYTES,
  MAX_REQUEST_FRAMES_BYTES,
  type SinkEvents,
  writeCacheFrame,
  writeEndpointFrame,
  writeEventFrame,
  writeRequestFrame,
} from '@dl/shared';

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
  hello: () => Omit<HelloEvent, 'v'>;
  /** How events are written: binary frames (the socket's default) or NDJSON lines (Redis, and on request). */
  encoding: EventEncoding;
  /** EVENTS_BUFFER_EVENTS and EVENTS_BUFFER_BYTES: the buffer's caps, unacknowledged events included. */
  maxEvents: number;
  maxBytes: number;
  /** EVENTS_DROP_REPORT_S: how often unreported drops are sent as a `dropped` event while drops happen. */
  dropReportMs: number;
  /** EVENTS_FLUSH_MS: the oldest unsent event's longest wait before its batch is written. */
  flushIntervalMs: number;
  /** Unsent bytes that make a batch: written on the next turn instead of waiting for the interval. */
  flushBytes?: number;
  now?: () => number;
}

/** A batch that fills this many bytes is written on the next turn, whatever its age. */
export const FLUSH_BYTES = 64 * 1024;

/**
 * Most bytes one write carries. A backlog (the resend after a reconnect: up to the whole buffer) goes
 * out in slices on successive event-loop turns, so no turn spends more than about a millisecond on it
 * and requests keep their latency while the exporter catches up.
 */
const SLICE_BYTES = 64 * 1024;
const INITIAL_CAPACITY = 64 * 1024;
const INITIAL_ENTRIES = 4096;

// Entry kinds in the queue. Only DATA counts in the ledger; HELLO is never resent on a new connection.
const DATA = 0;
const HELLO = 1;
const DROPPED = 2;

/**
 * Non-blocking, acknowledged event emitter. `emit` and `request` only encode into a bounded byte
 * queue (no string or object kept per event); one write, when a batch fills `flushBytes` or its
 * oldest event has waited `flushIntervalMs`, sends everything unsent. Entries stay queued until the
 * exporter acknowledges them and are resent after a reconnect, so delivery is at-least-once and
 * every loss is a counted drop.
 *
 * The queue is one buffer: entries are written at `tail`, sent from `sentByte`, acknowledged up to
 * `headByte`. Sent bytes are never overwritten (a transport may still hold them): when the buffer
 * is full the live part moves to another one. The old buffer is kept as the next move's target once
 * every entry sent from it is acknowledged (the transport is done with it): a fresh buffer each time
 * cost hundreds of page faults a second at full load.
 */
export class TelemetryEmitter {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private tail = 0;
  /**
   * Each entry's size and kind, `entries` of them: typed arrays kept and reused. Plain arrays grew by
   * one element per event and were copied at every move; living until acknowledged, those copies
   * were promoted by the scavenger, hundreds of page faults a second at full load.
   */
  private sizes = new Uint32Array(INITIAL_ENTRIES);
  private kinds = new Uint8Array(INITIAL_ENTRIES);
  private entries = 0;
  private head = 0; // first unacknowledged entry
  private headByte = 0;
  private sent = 0; // first entry not yet written on the current connection
  private sentByte = 0;
  /**
   * Sequence numbers: every DATA and DROPPED entry gets the next one when queued and keeps it across
   * resends (hellos get none). The numbered entries in the queue are consecutive and in order, so
   * two counters place them all: the number of the first at or after `head`, and at or after `sent`.
   */
  private headSeq = 0;
  private sentSeq = 0;
  /** The buffer before the last move, and how many entries sent from it are still unacknowledged. */
  private retiring: Buffer | undefined;
  private retiringSent = 0;
  /** A buffer no transport holds, for the next move. */
  private spare: Buffer | undefined;
  /** Binary encoding: endpoint -> id, defined on every connection (ids live as long as the process). */
  private readonly endpoints = new Map<string, number>();
  private lastEndpoint: string | undefined;
  private lastId = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushImmediate = false;
  private waitingDrain = false;
  private unreportedDrops = 0;
  private readonly ledger = emptyLedger();
  private readonly binary: boolean;
  private readonly flushIntervalMs: number;
  private readonly flushBytes: number;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly sink: EventSink;
  private readonly dropTimer: NodeJS.Timeout;
  private readonly flushNow = () => this.flush();

  constructor(private readonly options: EmitterOptions) {
    this.binary = options.encoding === BINARY_ENCODING;
    this.maxEvents = options.maxEvents;
    this.flushIntervalMs = options.flushIntervalMs;
    this.flushBytes = options.flushBytes ?? FLUSH_BYTES;
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
    if (!this.admit()) return;
    const line = encodeEvent(event);
    if (line.length - 1 > MAX_LINE_BYTES) {
      this.drop(); // the exporter would reject it
      return;
    }
    this.commit(this.writeLine(line));
  }

  /** Queues one request event (the request hot path): encoded straight into the queue. */
  request(
    endpoint: string,
    method: string,
    status: number,
    durationS: number,
    ts: number,
    errorType?: ErrorType,
    requestId?: string,
    traceId?: string,
  ): void {
    if (!this.admit()) return;
    // Most requests in a row share their route: the last endpoint's id is checked first, by identity.
    let id = this.binary ? (endpoint === this.lastEndpoint ? this.lastId : this.endpoints.get(endpoint)) : undefined;
    let defined = false;
    if (this.binary && id === undefined && this.endpoints.size < MAX_ENDPOINT_IDS && endpoint.length <= MAX_ENDPOINT_BYTES) {
      id = this.endpoints.size;
      this.endpoints.set(endpoint, id);
      defined = true;
    }
    let end: number;
    if (id !== undefined) {
      this.reserve(MAX_REQUEST_FRAMES_BYTES);
      const at = defined ? writeEndpointFrame(this.buf, this.tail, id, endpoint) : this.tail;
      end = writeRequestFrame(this.buf, at, id, method, status, durationS, ts, errorType, requestId, traceId);
    } else {
      // NDJSON, or an endpoint the dictionary cannot hold: the line, as is or in an event frame.
      const line = encodeRequestLine(endpoint, method, status, durationS, ts, errorType, requestId, traceId);
      end = this.writeLine(line);
    }
    if (this.commit(end)) {
      if (id !== undefined) {
        this.lastEndpoint = endpoint;
        this.lastId = id;
      }
    } else if (defined) {
      this.endpoints.delete(endpoint); // its definition was dropped with it
    }
  }

  /** Queues one cache event (once per cached download): a binary frame or the canonical line. */
  cache(result: CacheEvent['result'], format: CacheEvent['format'], ts: number): void {
    if (!this.admit()) return;
    if (this.binary) {
      this.reserve(CACHE_FRAME_BYTES);
      this.commit(writeCacheFrame(this.buf, this.tail, result, format, ts));
      return;
    }
    const line = encodeCacheLine(result, format, ts);
    this.reserve(line.length);
    this.commit(this.tail + this.buf.write(line, this.tail, 'latin1'));
  }

  stats(): EmitterLedger {
    return { ...this.ledger };
  }

  /** Resolves true once every queued event is acknowledged, false on timeout. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.entries - this.head > 0) {
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

  /** Writes an NDJSON line at `tail`, as is or (binary) in an event frame; returns where it ends. */
  private writeLine(line: string): number {
    this.reserve(3 + line.length);
    return this.binary ? writeEventFrame(this.buf, this.tail, line) : this.tail + this.buf.write(line, this.tail, 'latin1');
  }

  /** Counts an event; false (and a counted drop) when the buffer holds its cap of events. */
  private admit(): boolean {
    this.ledger.emitted++;
    if (this.ledger.buffered < this.maxEvents) return true;
    this.drop();
    return false;
  }

  private drop(): void {
    this.ledger.dropped++;
    this.unreportedDrops++;
  }

  /** Keeps the entry written at `tail..end` if the byte cap allows; false when it was dropped. */
  private commit(end: number): boolean {
    const l = this.ledger;
    const size = end - this.tail;
    if (l.buffered_bytes + size > this.maxBytes) {
      this.drop();
      return false;
    }
    l.buffered++;
    l.buffered_bytes += size;
    this.push(end, DATA);
    return true;
  }

  private push(end: number, kind: number): void {
    if (this.entries === this.sizes.length) this.compactEntries(true);
    this.sizes[this.entries] = end - this.tail;
    this.kinds[this.entries] = kind;
    this.entries++;
    this.tail = end;
    if (!this.flushImmediate) this.schedule();
  }

  /**
   * Room for `n` more bytes at `tail`. When the buffer is full the unacknowledged part moves to a
   * fresh buffer (twice its size at least): sent bytes may still be held by the transport.
   */
  private reserve(n: number): void {
    if (this.tail + n <= this.buf.length) return;
    const live = this.tail - this.headByte;
    let capacity = INITIAL_CAPACITY;
    while (capacity < 2 * (live + n)) capacity *= 2;
    const next = this.spare && this.spare.length >= capacity ? this.spare : Buffer.allocUnsafe(capacity);
    this.spare = undefined;
    this.buf.copy(next, 0, this.headByte, this.tail);
    this.retiring = this.buf;
    this.retiringSent = this.sent - this.head;
    this.release(0);
    this.buf = next;
    this.sentByte -= this.headByte;
    this.tail = live;
    this.headByte = 0;
    this.compactEntries(false);
  }

  /**
   * Moves the unacknowledged entries to the front of their arrays; when `grow` and they fill more than
   * half of them, into arrays twice the size.
   */
  private compactEntries(grow: boolean): void {
    const live = this.entries - this.head;
    if (grow && 2 * live > this.sizes.length) {
      const sizes = new Uint32Array(2 * this.sizes.length);
      const kinds = new Uint8Array(2 * this.kinds.length);
      sizes.set(this.sizes.subarray(this.head, this.entries));
      kinds.set(this.kinds.subarray(this.head, this.entries));
      this.sizes = sizes;
      this.kinds = kinds;
    } else if (this.head > 0) {
      this.sizes.copyWithin(0, this.head, this.entries);
      this.kinds.copyWithin(0, this.head, this.entries);
    }
    this.sent -= this.head;
    this.entries = live;
    this.head = 0;
  }

  /** A write on the next turn once `flushBytes` wait, else within `flushIntervalMs`. */
  private schedule(): void {
    if (this.waitingDrain || !this.sink.ready || this.sentByte >= this.tail) return;
    if (this.tail - this.sentByte >= this.flushBytes) {
      if (!this.flushImmediate) {
        // The interval's timer is no longer needed: left set, it could write a second slice in this turn.
        clearTimeout(this.flushTimer);
        this.flushTimer = undefined;
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
    if (this.waitingDrain || !this.sink.ready || this.sentByte >= this.tail) return;
    const start = this.sentByte;
    const seq = this.sentSeq;
    const hello = this.kinds[this.sent] === HELLO ? 1 : 0; // a hello is only ever a connection's first entry
    let end = start;
    let count = 0;
    while (this.sent < this.entries && (count === 0 || end - start + (this.sizes[this.sent] as number) <= SLICE_BYTES)) {
      end += this.sizes[this.sent] as number;
      this.sent++;
      count++;
    }
    this.sentByte = end;
    this.sentSeq += count - hello;
    if (!this.sink.send(this.buf.subarray(start, end), count, seq, hello)) this.waitingDrain = true;
    else this.schedule(); // the rest of a backlog, on a later turn
  }

  private onAck(count: number): void {
    const l = this.ledger;
    const end = Math.min(this.head + count, this.sent);
    for (let i = this.head; i < end; i++) {
      const size = this.sizes[i] as number;
      this.headByte += size;
      const kind = this.kinds[i];
      if (kind !== HELLO) this.headSeq++;
      if (kind === DATA) {
        l.acknowledged++;
        l.buffered--;
        l.buffered_bytes -= size;
      }
    }
    const acked = end - this.head;
    this.head = end;
    this.release(acked);
  }

  /** `acked` more entries acknowledged: the retiring buffer becomes the spare once none it sent is left. */
  private release(acked: number): void {
    this.retiringSent -= acked;
    if (this.retiring && this.retiringSent <= 0) {
      this.spare = this.retiring;
      this.retiring = undefined;
    }
  }

  private onConnect(): void {
    this.ledger.connected = true;
    this.ledger.connects++;
    // Everything unacknowledged is resent after a fresh hello (and, binary, the endpoint
    // dictionary); old hellos are obsolete.
    const old = this.buf;
    const oldSizes = this.sizes;
    const oldKinds = this.kinds;
    const oldEntries = this.entries;
    let oldAt = this.headByte;
    const oldHead = this.head;
    this.buf = Buffer.allocUnsafe(Math.max(INITIAL_CAPACITY, 2 * (this.tail - this.headByte) + 64 * 1024));
    this.sizes = new Uint32Array(oldSizes.length);
    this.kinds = new Uint8Array(oldKinds.length);
    this.entries = 0;
    this.tail = 0;
    this.head = this.headByte = this.sent = this.sentByte = 0;
    this.sentSeq = this.headSeq;
    const hello = encodeEvent(this.binary ? { ...this.options.hello(), encoding: BINARY_ENCODING } : this.options.hello());
    this.reserve(hello.length + this.endpoints.size * (4 + MAX_ENDPOINT_BYTES));
    let end = this.tail + this.buf.write(hello, this.tail, 'latin1');
    for (const [endpoint, id] of this.endpoints) end = writeEndpointFrame(this.buf, end, id, endpoint);
    this.push(end, HELLO);
    for (let i = oldHead; i < oldEntries; i++) {
      const size = oldSizes[i] as number;
      const kind = oldKinds[i] as number;
      if (kind !== HELLO) {
        this.reserve(size);
        old.copy(this.buf, this.tail, oldAt, oldAt + size);
        this.push(this.tail + size, kind);
      }
      oldAt += size;
    }
    if (this.unreportedDrops > 0) this.pushDropped(); // numbered after the resent entries it follows
    this.waitingDrain = false;
    this.schedule();
  }

  private onDisconnect(): void {
    // A closed transport holds no buffer any more.
    this.retiringSent = 0;
    this.release(0);
    this.ledger.connected = false;
    this.waitingDrain = false;
    this.sent = this.head;
    this.sentByte = this.headByte;
    this.sentSeq = this.headSeq;
  }

  private reportDrops(): void {
    if (this.unreportedDrops === 0 || !this.sink.ready) return;
    this.pushDropped();
    this.schedule();
  }

  private pushDropped(): void {
    const line = encodeEvent({ kind: 'dropped', ts: this.now(), count: this.unreportedDrops });
    this.unreportedDrops = 0;
    this.push(this.writeLine(line), DROPPED);
  }
}
