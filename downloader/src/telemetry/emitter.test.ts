import {
  BINARY_ENCODING,
  BinaryFrameReader,
  EVENT_ENCODINGS,
  type EventEncoding,
  type EventSink,
  encodeRequestLine,
  type SinkEvents,
} from '@dl/shared';
import { describe, expect, it } from 'vitest';
import { TelemetryEmitter } from './emitter.ts';

/**
 * An in-memory transport that decodes what it is sent as the exporter would (NDJSON lines, or a hello
 * line then binary frames, one reader per connection) and lets the test play the exporter.
 */
class FakeSink implements EventSink {
  ready = false;
  /** Every write, decoded: one array of events per `send`. */
  sent: Record<string, unknown>[][] = [];
  counts: number[] = [];
  /** Each write's first sequence number and its unnumbered events. */
  seqs: [seq: number, unnumbered: number][] = [];
  sizes: number[] = [];
  accept = true;
  private reader: BinaryFrameReader | undefined;
  private current: Record<string, unknown>[] = [];
  readonly rejected: string[] = [];
  constructor(readonly events: SinkEvents) {}
  start() {}
  send(bytes: Buffer, count: number, seq = -1, unnumbered = -1) {
    this.current = [];
    let p = 0;
    if (bytes[0] === 0x7b) {
      // A line: NDJSON, or the hello opening a binary connection.
      while (p < bytes.length && bytes[p] === 0x7b) {
        const nl = bytes.indexOf(10, p);
        const event = JSON.parse(bytes.toString('latin1', p, nl));
        this.current.push(event);
        p = nl + 1;
        if (event.encoding === BINARY_ENCODING) {
          this.reader = new BinaryFrameReader({
            request: (ts, endpoint, method, status, duration_s, error_type, trace_id) =>
              this.current.push({ kind: 'request', ts, endpoint, method, status, duration_s, error_type, trace_id }),
            cache: (ts, result, format) => this.current.push({ kind: 'cache', ts, result, format }),
            event: (b, start, end) => this.current.push(JSON.parse(b.toString('latin1', start, end))),
            reject: (reason) => this.rejected.push(reason),
          });
          break;
        }
      }
    }
    if (p < bytes.length) {
      expect(this.reader).toBeDefined();
      this.reader?.push(Buffer.from(bytes.subarray(p)));
    }
    this.sent.push(this.current);
    this.counts.push(count);
    this.seqs.push([seq, unnumbered]);
    this.sizes.push(bytes.length);
    return this.accept;
  }
  async close() {}
  connect() {
    this.ready = true;
    this.reader = undefined;
    this.events.onConnect();
  }
  disconnect() {
    this.ready = false;
    this.events.onDisconnect();
  }
  kinds(batch = this.sent.length - 1) {
    return (this.sent[batch] ?? []).map((e) => e.kind as string);
  }
}

/** Past the flush interval (1 ms here). */
const turn = () => new Promise((r) => setTimeout(r, 5));
const request = (emitter: TelemetryEmitter, i: number) => emitter.request(`/e${i}`, 'GET', 200, 0.001, 1);
const NDJSON_REQUEST_BYTES = encodeRequestLine('/e0', 'GET', 200, 0.001, 1).length;

/**
 * Makes the sink hold each write's bytes (a view of the emitter's buffer) instead of reading them:
 * `deliver(keep)` reads and acknowledges all but the last `keep` writes, as a late transport would.
 */
function holdWrites(sink: FakeSink) {
  const held: { bytes: Buffer; count: number }[] = [];
  const send = sink.send.bind(sink);
  sink.send = (bytes, count) => {
    held.push({ bytes, count });
    return true;
  };
  const deliver = (keep: number) => {
    while (held.length > keep) {
      const { bytes, count } = held.shift() as { bytes: Buffer; count: number };
      send(bytes, count);
      sink.events.onAck(count);
    }
  };
  return { held, deliver };
}

function setup(
  encoding: EventEncoding,
  opts: { maxEvents?: number; maxBytes?: number; flushIntervalMs?: number; flushBytes?: number } = {},
) {
  let sink!: FakeSink;
  const emitter = new TelemetryEmitter({
    sink: (events) => {
      sink = new FakeSink(events);
      return sink;
    },
    hello: () => ({ kind: 'hello', ts: 1, instance: 't', pid: 1, version: '0', started_at: 1 }),
    encoding,
    maxEvents: 10_000,
    maxBytes: 1024 * 1024,
    dropReportMs: 3_600_000,
    flushIntervalMs: 1,
    ...opts,
  });
  return { emitter, sink };
}

describe.each(EVENT_ENCODINGS)('TelemetryEmitter (%s)', (encoding) => {
  it('sends a hello first, then everything emitted in one turn as one write', async () => {
    const { emitter, sink } = setup(encoding);
    sink.connect();
    for (let i = 0; i < 100; i++) request(emitter, i);
    expect(sink.sent).toHaveLength(0);
    await turn();
    expect(sink.sent).toHaveLength(1);
    expect(sink.kinds(0)).toEqual(['hello', ...Array(100).fill('request')]);
    expect(emitter.stats()).toMatchObject({ emitted: 100, acknowledged: 0, buffered: 100, dropped: 0 });
  });

  it('writes on the next turn, without waiting for the interval, once a batch fills its bytes', async () => {
    const { emitter, sink } = setup(encoding, { flushIntervalMs: 60_000, flushBytes: 2048 });
    sink.connect();
    for (let i = 0; i < 10; i++) request(emitter, i);
    await new Promise((r) => setImmediate(r));
    expect(sink.sent).toHaveLength(0); // 10 events (and the hello) wait for the interval
    let n = 10;
    while (emitter.stats().buffered_bytes < 2048) request(emitter, n++);
    await new Promise((r) => setImmediate(r));
    expect(sink.sent).toHaveLength(1);
    expect(sink.sent[0]).toHaveLength(n + 1);
    expect(sink.counts[0]).toBe(n + 1);
    await emitter.close();
  });

  it('flushes a batch when its oldest event reaches the interval, not before', async () => {
    const { emitter, sink } = setup(encoding, { flushIntervalMs: 60 });
    sink.connect();
    request(emitter, 0);
    await new Promise((r) => setTimeout(r, 20));
    request(emitter, 1); // joins the batch: the interval counts from the oldest
    await new Promise((r) => setTimeout(r, 20));
    expect(sink.sent).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 40));
    expect(sink.kinds(0)).toEqual(['hello', 'request', 'request']);
    await emitter.close();
  });

  it('sends the same events in both encodings, field for field', async () => {
    const { emitter, sink } = setup(encoding);
    sink.connect();
    emitter.request('/{url}', 'POST', 502, 1.23456789, 1700000000123, 'upstream_error', 'req-1', 'ab'.repeat(16));
    emitter.request('other', 'other', 200, 0, 1);
    emitter.emit({ kind: 'cache', ts: 5, result: 'hit', format: 'html' });
    emitter.cache('miss', 'pdf', 6);
    emitter.cache('error', undefined, 7);
    await turn();
    const events = (sink.sent[0] ?? []).slice(1);
    expect(events[0]).toMatchObject({
      kind: 'request',
      endpoint: '/{url}',
      method: 'POST',
      status: 502,
      duration_s: 1.2345679,
      ts: 1700000000123,
      error_type: 'upstream_error',
      trace_id: 'ab'.repeat(16),
    });
    expect(events[1]).toMatchObject({ kind: 'request', endpoint: 'other', method: 'other', status: 200, duration_s: 0 });
    expect(events[2]).toMatchObject({ kind: 'cache', ts: 5, result: 'hit', format: 'html' });
    expect(events[3]).toMatchObject({ kind: 'cache', ts: 6, result: 'miss', format: 'pdf' });
    expect(events[4]).toMatchObject({ kind: 'cache', ts: 7, result: 'error' });
    expect(events[4]?.format).toBeUndefined();
    expect(sink.rejected).toEqual([]);
  });

  it('frees acknowledged events and keeps emitted = acknowledged + dropped + buffered', async () => {
    const { emitter, sink } = setup(encoding);
    sink.connect();
    for (let i = 0; i < 10; i++) request(emitter, i);
    await turn();
    sink.events.onAck(6); // hello + 5 requests
    expect(emitter.stats()).toMatchObject({ emitted: 10, acknowledged: 5, buffered: 5 });
    sink.events.onAck(50); // more than was sent: clamped
    expect(emitter.stats()).toMatchObject({ emitted: 10, acknowledged: 10, buffered: 0, buffered_bytes: 0 });
  });

  it('resends unacknowledged events after a reconnect, behind a fresh hello, never the old hello', async () => {
    const { emitter, sink } = setup(encoding);
    sink.connect();
    for (let i = 0; i < 4; i++) request(emitter, i);
    await turn();
    sink.events.onAck(2); // hello + /e0
    sink.disconnect();
    request(emitter, 4); // emitted while down: buffered
    await turn();
    expect(sink.sent).toHaveLength(1);
    sink.connect();
    await turn();
    expect(sink.kinds()).toEqual(['hello', 'request', 'request', 'request', 'request']);
    expect(
      sink.sent
        .at(-1)
        ?.slice(1)
        .map((e) => e.endpoint),
    ).toEqual(['/e1', '/e2', '/e3', '/e4']);
    sink.events.onAck(5);
    expect(emitter.stats()).toMatchObject({ emitted: 5, acknowledged: 5, buffered: 0, dropped: 0 });
  });

  it('numbers each event once: a resend carries its first numbers, hellos none, a drop report the next', async () => {
    const { emitter, sink } = setup(encoding, { maxEvents: 6 });
    sink.connect();
    for (let i = 0; i < 5; i++) request(emitter, i);
    await turn();
    sink.events.onAck(3); // hello, /e0, /e1
    for (let i = 5; i < 8; i++) request(emitter, i);
    await turn();
    sink.disconnect();
    request(emitter, 8); // the buffer holds its 6: dropped
    request(emitter, 9);
    sink.connect();
    await turn();
    expect(sink.seqs).toEqual([
      [0, 1],
      [5, 0],
      [2, 1],
    ]);
    expect(sink.kinds()).toEqual(['hello', ...Array(6).fill('request'), 'dropped']);
    // Every numbered event is the one its number named the first time: /eN is number N.
    for (const [w, [seq, unnumbered]] of sink.seqs.entries()) {
      const numbered = (sink.sent[w] ?? []).slice(unnumbered);
      expect(numbered.filter((e) => e.kind === 'request').map((e) => e.endpoint)).toEqual(
        numbered.filter((e) => e.kind === 'request').map((_, i) => `/e${seq + i}`),
      );
    }
    sink.events.onAck(8);
    request(emitter, 10);
    await turn();
    expect(sink.seqs.at(-1)).toEqual([9, 0]); // after the drop report's 8
    expect(emitter.stats()).toMatchObject({ emitted: 11, acknowledged: 8, dropped: 2, buffered: 1 });
  });

  it.each([
    ['event cap', { maxEvents: 10 }, 10],
    ['byte cap', { maxBytes: encoding === 'ndjson' ? NDJSON_REQUEST_BYTES * 4 : 4 * 24 + 3 * 4 + 4 }, 4],
  ])('drops past the %s, counts it, and reports it once delivery works', async (_name, opts, kept) => {
    const { emitter, sink } = setup(encoding, opts);
    for (let i = 0; i < 15; i++) request(emitter, 0);
    expect(emitter.stats()).toMatchObject({ emitted: 15, buffered: kept, dropped: 15 - kept });
    sink.connect();
    await turn();
    const sent = sink.sent[0] ?? [];
    expect(sink.kinds(0)).toEqual(['hello', ...Array(kept).fill('request'), 'dropped']);
    expect(sent.at(-1)?.count).toBe(15 - kept);
    sink.events.onAck(sent.length);
    const s = emitter.stats();
    expect(s.emitted).toBe(s.acknowledged + s.dropped);
  });

  it('keeps every entry, in order, through partial acknowledgements, its entry arrays growing and a reconnect', async () => {
    const { emitter, sink } = setup(encoding, { maxEvents: 100_000, maxBytes: 16 * 1024 * 1024 });
    sink.connect();
    let n = 0;
    const emitSome = (k: number) => {
      for (let i = 0; i < k; i++, n++) emitter.request(`/e${n % 50}`, 'GET', 200, 0.001, n + 1); // ts: the sequence
    };
    let acked = 0; // entries, the hello first
    // 3,000 at a time against entry arrays of 4,096, half of what was sent acknowledged each time:
    // they fill with acknowledged entries at the front (compacted) and with live ones (grown).
    for (let round = 0; round < 6; round++) {
      emitSome(3_000);
      await turn();
      const sent = sink.counts.reduce((a, b) => a + b);
      const half = Math.floor((sent - acked) / 2);
      sink.events.onAck(half);
      acked += half;
    }
    const sentSoFar = () => sink.counts.reduce((a, b) => a + b);
    for (let t = 0; t < 100 && sentSoFar() < 18_001; t++) await turn(); // a backlog goes out 64 KiB a turn
    expect(sentSoFar()).toBe(18_001);
    sink.disconnect();
    emitSome(100);
    sink.connect();
    for (let t = 0; t < 200 && emitter.stats().buffered > 0; t++) {
      await turn();
      sink.events.onAck(1_000_000);
    }
    expect(emitter.stats()).toMatchObject({ emitted: 18_100, acknowledged: 18_100, buffered: 0, dropped: 0 });
    // Each connection's requests are one run of consecutive events; the second starts at the first unacknowledged.
    const hellos = sink.sent.flatMap((batch, b) => batch.map((e, i) => (e.kind === 'hello' ? `${b}:${i}` : ''))).filter(Boolean);
    expect(hellos).toHaveLength(2);
    const all = sink.sent.flat();
    const second = all.findLastIndex((e) => e.kind === 'hello');
    const runOf = (events: Record<string, unknown>[]) => events.filter((e) => e.kind === 'request').map((e) => e.ts as number);
    const first = runOf(all.slice(0, second));
    const then = runOf(all.slice(second));
    expect(first).toEqual(Array.from({ length: 18_000 }, (_, i) => i + 1));
    expect(then).toEqual(Array.from({ length: then.length }, (_, i) => 18_100 - then.length + i + 1));
    expect(then.length).toBe(18_100 - (acked - 1)); // all but the acknowledged requests (the hello was one entry)
    expect(all.filter((e) => e.kind === 'request' && e.endpoint !== `/e${((e.ts as number) - 1) % 50}`)).toEqual([]);
  });

  it('resends a backlog in slices of at most 64 KiB, one per event-loop turn', async () => {
    const { emitter, sink } = setup(encoding);
    for (let i = 0; i < 5000; i++) request(emitter, i % 10); // no transport yet: all buffered
    const backlog = emitter.stats().buffered_bytes;
    sink.connect();
    await new Promise((r) => setImmediate(r));
    expect(sink.sent).toHaveLength(1);
    for (let turn = 0; turn < 40 && sink.sent.flat().length < 5001; turn++) await new Promise((r) => setImmediate(r));
    await turn();
    expect(sink.sizes.every((n) => n <= 64 * 1024)).toBe(true);
    expect(sink.sent.flat()).toHaveLength(5001);
    expect(sink.counts.reduce((a, b) => a + b)).toBe(5001);
    expect(sink.sent.length).toBeGreaterThanOrEqual(Math.ceil(backlog / (64 * 1024)));
    expect(emitter.stats()).toMatchObject({ emitted: 5000, buffered: 5000, dropped: 0 });
  });

  it('keeps its dictionary across reconnects and buffer moves: every endpoint arrives by name', async () => {
    const { emitter, sink } = setup(encoding);
    sink.connect();
    for (let i = 0; i < 3000; i++) request(emitter, i);
    await turn();
    sink.events.onAck(1000);
    sink.disconnect();
    for (let i = 3000; i < 6000; i++) request(emitter, i);
    sink.connect();
    for (let k = 0; k < 60 && emitter.stats().buffered > 0; k++) {
      await turn();
      sink.events.onAck(1e9); // everything written so far (clamped to what was sent)
    }
    const requests = sink.sent.flat().filter((e) => e.kind === 'request');
    const endpoints = new Set(requests.map((e) => e.endpoint));
    expect(endpoints.size).toBe(6000);
    expect(sink.rejected).toEqual([]);
    expect(emitter.stats()).toMatchObject({ emitted: 6000, acknowledged: 6000, dropped: 0, buffered: 0 });
  });

  it('moves between a few buffers, and a transport that reads its writes late sees what was sent', async () => {
    const { emitter, sink } = setup(encoding);
    // The transport holds each write's bytes (a view of the emitter's buffer) and reads them only
    // when the exporter's acknowledgement for the write before it comes: one write always in flight.
    const { held, deliver } = holdWrites(sink);
    sink.connect();
    const buffers = new Set<ArrayBufferLike>();
    for (let wave = 0; wave < 40; wave++) {
      for (let i = 0; i < 500; i++) emitter.request(`/w${wave % 7}`, 'GET', 200 + wave, 0.001, wave * 1000 + i + 1);
      await turn();
      for (const h of held) buffers.add(h.bytes.buffer);
      deliver(1);
    }
    await turn();
    deliver(0);
    const requests = sink.sent.flat().filter((e) => e.kind === 'request');
    expect(requests).toHaveLength(20_000);
    expect(requests.map((e) => e.ts)).toEqual(
      Array.from({ length: 20_000 }, (_, k) => Math.floor(k / 500) * 1000 + (k % 500) + 1),
    );
    expect(requests.every((e) => e.status === 200 + Math.floor((e.ts as number) / 1000))).toBe(true);
    expect(sink.rejected).toEqual([]);
    expect(emitter.stats()).toMatchObject({ emitted: 20_000, acknowledged: 20_000, buffered: 0 });
    // The buffer moved many times over these 40 writes but only ever between a few buffers.
    expect(buffers.size).toBeGreaterThan(1);
    expect(buffers.size).toBeLessThanOrEqual(4);
  });

  it('never reuses a buffer the transport still holds, even one large enough for the next move', async () => {
    const { emitter, sink } = setup(encoding, { maxEvents: 100_000, maxBytes: 64 * 1024 * 1024 });
    const { held, deliver } = holdWrites(sink);
    let ts = 0;
    const wave = async () => {
      for (let i = 0; i < 500; i++) emitter.request('/w', 'GET', 200, 0.001, ++ts);
      await turn();
    };
    const newest = () => held.at(-1)?.bytes.buffer;
    sink.connect();
    // A backlog grows the buffer large; then it is all acknowledged.
    for (let w = 0; w < 30; w++) await wave();
    const large = newest();
    deliver(0);
    // Steady traffic with one write in flight, until the large buffer moves (a write from it held).
    const movesFrom = async (from: ArrayBufferLike | undefined, keep: number | undefined) => {
      for (let w = 0; w < 200; w++) {
        await wave();
        if (newest() !== from) return true;
        if (keep !== undefined) deliver(keep);
      }
      return false;
    };
    expect(await movesFrom(large, 1)).toBe(true);
    // No acknowledgement now: the next move needs a buffer the large one could be, but the
    // transport still holds a write from it.
    expect(await movesFrom(newest(), undefined)).toBe(true);
    // Still none: had the large buffer been taken, these writes would run over its held write.
    for (let w = 0; w < 100; w++) await wave();
    deliver(0);
    const requests = sink.sent.flat().filter((e) => e.kind === 'request');
    expect(requests.map((e) => e.ts)).toEqual(Array.from({ length: ts }, (_, k) => k + 1));
    expect(sink.rejected).toEqual([]);
    expect(emitter.stats()).toMatchObject({ emitted: ts, acknowledged: ts, buffered: 0 });
  });

  it('waits for drain when the transport pushes back', async () => {
    const { emitter, sink } = setup(encoding);
    sink.connect();
    sink.accept = false;
    request(emitter, 1);
    await turn();
    request(emitter, 2);
    await turn();
    expect(sink.sent).toHaveLength(1);
    sink.accept = true;
    sink.events.onDrain();
    await turn();
    expect(sink.sent).toHaveLength(2);
    expect(sink.kinds(1)).toEqual(['request']);
  });

  it('never throws from emit, even with no transport at all', () => {
    const { emitter } = setup(encoding, { maxEvents: 1 });
    expect(() => {
      for (let i = 0; i < 1000; i++) emitter.emit({ kind: 'cache', ts: 1, result: 'hit' });
    }).not.toThrow();
    expect(emitter.stats()).toMatchObject({ emitted: 1000, buffered: 1, dropped: 999 });
  });
});
