import type { EventSink, SinkEvents } from '@dl/shared';
import { describe, expect, it } from 'vitest';
import { TelemetryEmitter } from './emitter.ts';

/** An in-memory transport: records what was sent and lets the test play the exporter. */
class FakeSink implements EventSink {
  ready = false;
  sent: string[][] = [];
  accept = true;
  constructor(readonly events: SinkEvents) {}
  start() {}
  send(lines: string) {
    this.sent.push(lines.split('\n').filter(Boolean));
    return this.accept;
  }
  async close() {}
  connect() {
    this.ready = true;
    this.events.onConnect();
  }
  disconnect() {
    this.ready = false;
    this.events.onDisconnect();
  }
  kinds(batch = this.sent.length - 1) {
    return (this.sent[batch] ?? []).map((l) => JSON.parse(l).kind as string);
  }
}

/** Past the flush interval (1 ms here). */
const turn = () => new Promise((r) => setTimeout(r, 5));
const line = (i: number) =>
  `{"v":1,"kind":"request","ts":1,"endpoint":"/e${i}","method":"GET","status":200,"duration_s":0.001}\n`;

function setup(opts: { maxEvents?: number; maxBytes?: number } = {}) {
  let sink!: FakeSink;
  const emitter = new TelemetryEmitter({
    sink: (events) => {
      sink = new FakeSink(events);
      return sink;
    },
    hello: () => ({ kind: 'hello', ts: 1, instance: 't', pid: 1, version: '0', started_at: 1 }),
    maxEvents: 10_000,
    maxBytes: 1024 * 1024,
    dropReportMs: 3_600_000,
    flushIntervalMs: 1,
    ...opts,
  });
  return { emitter, sink };
}

describe('TelemetryEmitter', () => {
  it('sends a hello first, then everything emitted in one turn as one write', async () => {
    const { emitter, sink } = setup();
    sink.connect();
    for (let i = 0; i < 100; i++) emitter.emitLine(line(i));
    expect(sink.sent).toHaveLength(0);
    await turn();
    expect(sink.sent).toHaveLength(1);
    expect(sink.kinds(0)).toEqual(['hello', ...Array(100).fill('request')]);
    expect(emitter.stats()).toMatchObject({ emitted: 100, acknowledged: 0, buffered: 100, dropped: 0 });
  });

  it('writes on the next turn, without waiting for the interval, once many lines wait', async () => {
    let sink!: FakeSink;
    const emitter = new TelemetryEmitter({
      sink: (events) => (sink = new FakeSink(events)),
      hello: () => ({ kind: 'hello', ts: 1, instance: 't', pid: 1, version: '0', started_at: 1 }),
      maxEvents: 10_000,
      maxBytes: 1024 * 1024,
      dropReportMs: 3_600_000,
      flushIntervalMs: 60_000,
      flushLines: 50,
    });
    sink.connect();
    for (let i = 0; i < 10; i++) emitter.emitLine(line(i));
    await new Promise((r) => setImmediate(r));
    expect(sink.sent).toHaveLength(0); // 11 lines (hello included) wait for the interval
    for (let i = 0; i < 60; i++) emitter.emitLine(line(i));
    await new Promise((r) => setImmediate(r));
    expect(sink.sent).toHaveLength(1);
    expect(sink.sent[0]).toHaveLength(71);
    await emitter.close();
  });

  it('frees acknowledged events and keeps emitted = acknowledged + dropped + buffered', async () => {
    const { emitter, sink } = setup();
    sink.connect();
    for (let i = 0; i < 10; i++) emitter.emitLine(line(i));
    await turn();
    sink.events.onAck(6); // hello + 5 requests
    expect(emitter.stats()).toMatchObject({ emitted: 10, acknowledged: 5, buffered: 5 });
    sink.events.onAck(50); // more than was sent: clamped
    expect(emitter.stats()).toMatchObject({ emitted: 10, acknowledged: 10, buffered: 0, buffered_bytes: 0 });
  });

  it('resends unacknowledged events after a reconnect, behind a fresh hello, never the old hello', async () => {
    const { emitter, sink } = setup();
    sink.connect();
    for (let i = 0; i < 4; i++) emitter.emitLine(line(i));
    await turn();
    sink.events.onAck(2); // hello + /e0
    sink.disconnect();
    emitter.emitLine(line(4)); // emitted while down: buffered
    await turn();
    expect(sink.sent).toHaveLength(1);
    sink.connect();
    await turn();
    expect(sink.kinds()).toEqual(['hello', 'request', 'request', 'request', 'request']);
    expect(
      sink.sent
        .at(-1)
        ?.slice(1)
        .map((l) => JSON.parse(l).endpoint),
    ).toEqual(['/e1', '/e2', '/e3', '/e4']);
    sink.events.onAck(5);
    expect(emitter.stats()).toMatchObject({ emitted: 5, acknowledged: 5, buffered: 0, dropped: 0 });
  });

  it.each([
    ['event cap', { maxEvents: 10 }, 10],
    ['byte cap', { maxBytes: line(0).length * 4 }, 4],
  ])('drops past the %s, counts it, and reports it once delivery works', async (_name, opts, kept) => {
    const { emitter, sink } = setup(opts);
    for (let i = 0; i < 15; i++) emitter.emitLine(line(0));
    expect(emitter.stats()).toMatchObject({ emitted: 15, buffered: kept, dropped: 15 - kept });
    sink.connect();
    await turn();
    const sent = sink.sent[0] ?? [];
    expect(sink.kinds(0).slice(0, 2)).toEqual(['hello', 'dropped']);
    expect(JSON.parse(sent[1] ?? '{}').count).toBe(15 - kept);
    sink.events.onAck(sent.length);
    const s = emitter.stats();
    expect(s.emitted).toBe(s.acknowledged + s.dropped);
  });

  it('resends a backlog in slices of at most 1,024 lines, one per event-loop turn', async () => {
    const { emitter, sink } = setup();
    for (let i = 0; i < 5000; i++) emitter.emitLine(line(i)); // no transport yet: all buffered
    sink.connect();
    await new Promise((r) => setImmediate(r));
    expect(sink.sent).toHaveLength(1);
    expect(sink.sent[0]?.length).toBe(1024); // hello + 1,023 events
    for (let turn = 0; turn < 10 && sink.sent.flat().length < 5001; turn++) await new Promise((r) => setImmediate(r));
    await turn();
    expect(sink.sent.every((batch) => batch.length <= 1024)).toBe(true);
    expect(sink.sent.flat()).toHaveLength(5001);
    expect(sink.sent.length).toBeGreaterThanOrEqual(5);
    expect(emitter.stats()).toMatchObject({ emitted: 5000, buffered: 5000, dropped: 0 });
  });

  it('waits for drain when the transport pushes back', async () => {
    const { emitter, sink } = setup();
    sink.connect();
    sink.accept = false;
    emitter.emitLine(line(1));
    await turn();
    emitter.emitLine(line(2));
    await turn();
    expect(sink.sent).toHaveLength(1);
    sink.accept = true;
    sink.events.onDrain();
    await turn();
    expect(sink.sent).toHaveLength(2);
    expect(sink.kinds(1)).toEqual(['request']);
  });

  it('never throws from emit, even with no transport at all', () => {
    const { emitter } = setup({ maxEvents: 1 });
    expect(() => {
      for (let i = 0; i < 1000; i++) emitter.emit({ kind: 'cache', ts: 1, result: 'hit' });
    }).not.toThrow();
    expect(emitter.stats()).toMatchObject({ emitted: 1000, buffered: 1, dropped: 999 });
  });
});
