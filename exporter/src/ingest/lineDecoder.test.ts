import { encodeEvent, type TelemetryEvent } from '@dl/shared';
import { describe, expect, it } from 'vitest';
import type { EventConsumer } from '../aggregate/aggregator.ts';
import { LineDecoder } from './lineDecoder.ts';

const NOW = 1_764_000_000_000;

/** A consumer that writes down what reaches it, in order. */
function recorder() {
  const seen: string[] = [];
  const next: EventConsumer = {
    request: (endpoint, method, status, d) => seen.push(`request ${method} ${endpoint} ${status} ${d}`),
    cache: (result) => seen.push(`cache ${result}`),
    event: (e: TelemetryEvent) => seen.push(`event ${e.kind}`),
  };
  return { seen, decoder: new LineDecoder({ next, now: () => NOW }) };
}

const feed = (decoder: LineDecoder, line: string, transport: 'socket' | 'redis' = 'socket') => {
  const b = Buffer.from(line);
  decoder.handleLine(b, 0, b.length, transport);
};

describe('LineDecoder', () => {
  it('hands every accepted line to the next stage once, fast path or general decoder', () => {
    const { seen, decoder } = recorder();
    feed(
      decoder,
      `{"v":1,"kind":"request","ts":${NOW - 20},"endpoint":"/health","method":"GET","status":200,"duration_s":0.002}`,
    );
    feed(decoder, `{"kind":"request","v":1,"ts":${NOW},"endpoint":"/x","method":"POST","status":201,"duration_s":1}`, 'redis');
    feed(decoder, `{"v":1,"kind":"cache","ts":${NOW},"result":"miss"}`);
    feed(decoder, encodeEvent({ kind: 'pdf', ts: NOW, outcome: 'ok', duration_s: 1.5 }).trimEnd());
    expect(seen).toEqual(['request GET /health 200 0.002', 'event request', 'cache miss', 'event pdf']);
    expect(decoder.receivedTotal).toBe(4);
    expect(decoder.rejectedTotal).toBe(0);
    expect(decoder.received.render('prometheus')).toContain('exporter_events_received_total{transport="redis",kind="request"} 1');
    expect(decoder.delay.render('prometheus')).toContain('exporter_event_delay_seconds_bucket{le="0.025"} 4');
  });

  it.each([
    ['not_json', '{"v":1,'],
    ['not_json', Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1')],
    ['bad_version', '{"v":2,"kind":"cache","ts":1,"result":"hit"}'],
    ['unknown_kind', '{"v":1,"kind":"teleport","ts":1}'],
    ['bad_field', '{"v":1,"kind":"cache","ts":1,"result":"maybe"}'],
    ['bad_field', '[1,2]'],
  ])('counts a %s line under its reason and hands nothing on', (reason, line) => {
    const { seen, decoder } = recorder();
    const b = Buffer.from(line, 'latin1');
    decoder.handleLine(b, 0, b.length, 'socket');
    expect(seen).toEqual([]);
    expect(decoder.rejectedTotal).toBe(1);
    expect(decoder.rejected.render('prometheus')).toContain(`exporter_events_rejected_total{reason="${reason}"} 1`);
  });

  it('counts a line the transport refused as too long', () => {
    const { decoder } = recorder();
    decoder.reject('too_long');
    expect(decoder.rejected.render('prometheus')).toContain('exporter_events_rejected_total{reason="too_long"} 1');
  });

  it('reads the clock once per chunk, and stamps every event of the chunk with that time', () => {
    let reads = 0;
    const times: number[] = [];
    const decoder = new LineDecoder({
      next: { request: (_e, _m, _s, _d, now) => times.push(now), cache: (_r, now) => times.push(now), event: () => {} },
      now: () => NOW + 1000 * ++reads,
    });
    decoder.chunk(() => {
      for (let i = 0; i < 3; i++)
        feed(decoder, `{"v":1,"kind":"request","ts":${NOW},"endpoint":"/health","method":"GET","status":200,"duration_s":0.002}`);
      feed(decoder, `{"v":1,"kind":"cache","ts":${NOW},"result":"hit"}`);
    });
    feed(decoder, `{"v":1,"kind":"cache","ts":${NOW},"result":"hit"}`); // outside a chunk: its own reading
    expect(reads).toBe(2);
    expect(times).toEqual([NOW + 1000, NOW + 1000, NOW + 1000, NOW + 1000, NOW + 2000]);
    expect(decoder.delay.render('prometheus')).toContain('exporter_event_delay_seconds_bucket{le="1"} 4');
  });

  it('observes the delays of a chunk exactly as one by one: every event counted, runs of one ts included', () => {
    // Runs of equal ts (several events in one millisecond), a ts that comes back after another, an
    // event from the future (delay 0), and a run that ends with the chunk, then one outside any chunk.
    const tss = [NOW - 20, NOW - 20, NOW - 20, NOW - 3000, NOW - 20, NOW + 5, NOW + 5, NOW - 400, NOW - 400];
    const line = (ts: number) =>
      `{"v":1,"kind":"request","ts":${ts},"endpoint":"/h","method":"GET","status":200,"duration_s":0.5}`;
    const { decoder } = recorder();
    decoder.chunk(() => {
      for (const ts of tss) feed(decoder, line(ts));
    });
    // Seen as the chunk ends (a scrape may come next), its last run included.
    expect(decoder.delay.render('prometheus')).toContain('exporter_event_delay_seconds_count 9');
    feed(decoder, line(NOW - 400));
    const single = recorder().decoder;
    for (const ts of [...tss, NOW - 400]) single.chunk(() => feed(single, line(ts)));
    expect(decoder.delay.render('prometheus')).toBe(single.delay.render('prometheus'));
    expect(decoder.delay.render('prometheus')).toContain('exporter_event_delay_seconds_count 10');
    expect(decoder.delay.render('prometheus')).toContain('exporter_event_delay_seconds_bucket{le="0.025"} 6');
    const [a, b] = [decoder, single].map((d) => d.recentDelay.window(60_000, NOW).sketch);
    expect(a?.count).toBe(10);
    for (const q of [0.1, 0.5, 0.9, 0.99]) expect(a?.quantile(q)).toBe(b?.quantile(q));
    expect(a?.sum).toBeCloseTo(0.02 * 4 + 3 + 0.4 * 3, 12);
  });
});
