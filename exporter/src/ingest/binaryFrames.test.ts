import {
  CACHE_RESULTS,
  ERROR_TYPE_NAMES,
  type EventInput,
  encodeCacheLine,
  encodeEvent,
  encodeRequestLine,
  FORMATS,
  FRAME_CACHE,
  FRAME_REQUEST,
  HTTP_METHODS,
  MAX_REQUEST_FRAMES_BYTES,
  type RequestEvent,
  type TelemetryEvent,
  writeCacheFrame,
  writeEndpointFrame,
  writeEventFrame,
  writeRequestFrame,
} from '@dl/shared';
import { mulberry32 } from '@dl/testkit';
import { describe, expect, it } from 'vitest';
import type { EventConsumer } from '../aggregate/aggregator.ts';
import { LineDecoder } from './lineDecoder.ts';
import { LineFramer } from './lineFramer.ts';

const NOW = 1_764_000_000_000;
const pick = <T>(r: () => number, xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;

/**
 * A consumer that writes down what the aggregate stage receives, every argument included. A whole
 * request event (the general decoder's path) is written as the fast path's call, as the aggregator
 * treats it.
 */
function recorder() {
  const seen: string[] = [];
  const next: EventConsumer = {
    request: (...args) => seen.push(`request ${JSON.stringify(args)}`),
    cache: (...args) => seen.push(`cache ${JSON.stringify(args)}`),
    event: (e: TelemetryEvent, now) =>
      e.kind === 'request'
        ? next.request(e.endpoint, e.method, e.status, e.duration_s, now, e.error_type, e.trace_id)
        : seen.push(`event ${JSON.stringify(e)} ${now}`),
  };
  const decoder = new LineDecoder({ next, now: () => NOW });
  return { seen, decoder };
}

const ENDPOINTS = ['/health', '/{url}', '/jobs/{job_id}/status', 'other', '/batch', `/${'a'.repeat(127)}`];

/** A random event the downloader could emit: mostly requests, every optional field sometimes. */
function randomEvent(r: () => number): EventInput {
  const ts = NOW - Math.floor(r() * 100_000);
  if (r() < 0.15)
    return { kind: 'cache', ts, result: pick(r, CACHE_RESULTS), ...(r() < 0.7 ? { format: pick(r, FORMATS) } : {}) };
  if (r() < 0.05) return { kind: 'pdf', ts, outcome: 'ok', duration_s: r() * 3 };
  const status = pick(r, [200, 201, 204, 304, 400, 404, 429, 499, 500, 502, 504, 100, 599]);
  const event: Omit<RequestEvent, 'v'> = {
    kind: 'request',
    ts,
    endpoint: pick(r, ENDPOINTS),
    method: pick(r, HTTP_METHODS),
    status,
    duration_s: pick(r, [0, 1e-7, 86_400, r() * 0.01, r() * 100, Math.round(r() * 1e6) / 1e3]),
  };
  if (status >= 400 && r() < 0.8) event.error_type = pick(r, ERROR_TYPE_NAMES);
  if (r() < 0.5) event.request_id = pick(r, ['a', 'req-1', '0b6e1c1e-3a36-4c8f-9d52-2d8c0d9e9f00', 'x'.repeat(128), 'A._:=+/-z']);
  if (r() < 0.2) event.trace_id = Array.from({ length: 32 }, () => pick(r, [...'0123456789abcdef'])).join('');
  return event;
}

/** The events as the emitter's binary encoding writes them: an endpoint defined before its first use. */
function binaryStream(events: EventInput[]): Buffer {
  const b = Buffer.alloc(events.length * (MAX_REQUEST_FRAMES_BYTES + 300));
  const ids = new Map<string, number>();
  let p = 0;
  for (const e of events) {
    if (e.kind === 'cache') {
      p = writeCacheFrame(b, p, e.result, e.format, e.ts);
      continue;
    }
    if (e.kind !== 'request') {
      p = writeEventFrame(b, p, encodeEvent(e));
      continue;
    }
    let id = ids.get(e.endpoint);
    if (id === undefined) {
      id = ids.size;
      ids.set(e.endpoint, id);
      p = writeEndpointFrame(b, p, id, e.endpoint);
    }
    p = writeRequestFrame(b, p, id, e.method, e.status, e.duration_s, e.ts, e.error_type, e.request_id, e.trace_id);
  }
  return b.subarray(0, p);
}

function ndjsonLines(events: EventInput[]): string[] {
  return events.map((e) =>
    e.kind === 'request'
      ? encodeRequestLine(e.endpoint, e.method, e.status, e.duration_s, e.ts, e.error_type, e.request_id, e.trace_id)
      : e.kind === 'cache' && e.format === 'multi'
        ? encodeEvent(e) // the general decoder's path, beside the fast reader's
        : e.kind === 'cache'
          ? encodeCacheLine(e.result, e.format, e.ts)
          : encodeEvent(e),
  );
}

/** Feeds `bytes` to a fresh binary reader in chunks cut at random points. */
function feedBinary(bytes: Buffer, r: () => number, maxChunk = 200) {
  const { seen, decoder } = recorder();
  const reader = decoder.binaryReader('socket');
  let frames = 0;
  for (let p = 0; p < bytes.length; ) {
    const n = 1 + Math.floor(r() * maxChunk);
    frames += reader.push(Buffer.from(bytes.subarray(p, p + n)));
    p += n;
  }
  return { seen, decoder, reader, frames, truncated: reader.finish() };
}

describe('binary frames against NDJSON lines', () => {
  it('5,000 random events give the aggregate stage the same calls, argument for argument, however the bytes are cut', () => {
    const r = mulberry32(12);
    const events = Array.from({ length: 5_000 }, () => randomEvent(r));
    const lines = recorder();
    const framer = new LineFramer(
      8192,
      (b, s, e) => lines.decoder.handleLine(b, s, e, 'socket'),
      () => {},
    );
    framer.push(Buffer.from(ndjsonLines(events).join(''), 'latin1'));
    const binary = feedBinary(binaryStream(events), r);

    expect(lines.decoder.rejectedTotal).toBe(0);
    expect(binary.decoder.rejectedTotal).toBe(0);
    expect(binary.frames).toBe(5_000);
    expect(binary.truncated).toBe(false);
    expect(binary.seen).toHaveLength(5_000);
    const differs = binary.seen.findIndex((call, i) => call !== lines.seen[i]);
    expect(differs === -1 ? undefined : [binary.seen[differs], lines.seen[differs]]).toBeUndefined();
    for (const family of [binary.decoder.received, binary.decoder.delay])
      expect(family.render('prometheus')).toBe(
        (family === binary.decoder.received ? lines.decoder.received : lines.decoder.delay).render('prometheus'),
      );
  });

  it('is 24 bytes for a plain request, under a quarter of its NDJSON line', () => {
    const b = Buffer.alloc(MAX_REQUEST_FRAMES_BYTES);
    const n = writeRequestFrame(b, 0, 3, 'GET', 200, 0.0123, NOW);
    expect(n).toBe(24);
    expect(encodeRequestLine('/health', 'GET', 200, 0.0123, NOW).length).toBeGreaterThan(4 * 24);
  });
});

/** One valid request frame (endpoint 0 defined first), to corrupt field by field. */
function validFrames(): { bytes: Buffer; at: number } {
  const b = Buffer.alloc(MAX_REQUEST_FRAMES_BYTES);
  const at = writeEndpointFrame(b, 0, 0, '/health');
  const end = writeRequestFrame(b, at, 0, 'GET', 200, 0.5, NOW, undefined, 'req-1', 'ab'.repeat(16));
  return { bytes: b.subarray(0, end), at };
}

describe('binary frames: hostile input', () => {
  it.each<[string, (b: Buffer, at: number) => void, string]>([
    ['an unknown endpoint id', (b, at) => b.writeUInt16LE(7, at + 2), 'bad_field'],
    ['an endpoint id past the dictionary cap', (b, at) => b.writeUInt16LE(65_535, at + 2), 'bad_field'],
    [
      'a method index past the list',
      (b, at) => {
        b[at + 4] = HTTP_METHODS.length;
      },
      'bad_field',
    ],
    [
      'an error type index past the list',
      (b, at) => {
        b[at + 1] = 7;
        b[at + 5] = ERROR_TYPE_NAMES.length;
      },
      'bad_field',
    ],
    [
      'an error type without its flag',
      (b, at) => {
        b[at + 5] = 1;
      },
      'bad_field',
    ],
    [
      'an unknown flag',
      (b, at) => {
        b[at + 1] = 6 | 8;
      },
      'bad_field',
    ],
    ['status 99', (b, at) => b.writeUInt16LE(99, at + 6), 'bad_field'],
    ['status 600', (b, at) => b.writeUInt16LE(600, at + 6), 'bad_field'],
    ['ts 0', (b, at) => b.writeDoubleLE(0, at + 8), 'bad_field'],
    ['a fractional ts', (b, at) => b.writeDoubleLE(NOW + 0.5, at + 8), 'bad_field'],
    ['ts NaN', (b, at) => b.writeDoubleLE(Number.NaN, at + 8), 'bad_field'],
    ['ts past 2^53', (b, at) => b.writeDoubleLE(2 ** 54, at + 8), 'bad_field'],
    ['a negative duration', (b, at) => b.writeDoubleLE(-1, at + 16), 'bad_field'],
    ['a duration over a day', (b, at) => b.writeDoubleLE(86_400.5, at + 16), 'bad_field'],
    ['duration NaN', (b, at) => b.writeDoubleLE(Number.NaN, at + 16), 'bad_field'],
    ['duration Infinity', (b, at) => b.writeDoubleLE(Number.POSITIVE_INFINITY, at + 16), 'bad_field'],
    ['an all-zero trace id', (b, at) => b.fill(0, at + 24, at + 40), 'bad_field'],
    [
      'a request id with a quote',
      (b, at) => {
        b[at + 41] = 0x22;
      },
      'bad_field',
    ],
    [
      'an empty request id',
      (b, at) => {
        b[at + 40] = 0;
        b[at + 41] = FRAME_REQUEST;
      },
      'bad_field',
    ],
    [
      'a frame type no version defines',
      (b, at) => {
        b[at] = 0x7f;
      },
      'bad_version',
    ],
  ])('rejects %s under its reason, never throwing', (_name, corrupt, reason) => {
    const { bytes, at } = validFrames();
    corrupt(bytes, at);
    const { decoder, seen, reader } = feedBinary(bytes, mulberry32(1), 1000);
    expect(seen).toEqual([]);
    expect(decoder.rejected.render('prometheus')).toContain(`exporter_events_rejected_total{reason="${reason}"} 1`);
    expect(decoder.rejectedTotal).toBe(1);
    expect(reader.failed).toBe(reason === 'bad_version');
  });

  it.each<[string, number[]]>([
    ['an unknown result', [FRAME_CACHE, 3, 0]],
    ['a format index past the list', [FRAME_CACHE, 0, FORMATS.length + 1]],
  ])('rejects a cache frame with %s', (_name, head) => {
    const b = Buffer.alloc(64);
    const end = writeCacheFrame(b, 0, 'hit', 'html', NOW);
    b.set(head, 0);
    const { decoder, seen, frames } = feedBinary(b.subarray(0, end), mulberry32(3));
    expect(frames).toBe(1);
    expect(seen).toEqual([]);
    expect(decoder.rejected.render('prometheus')).toContain('exporter_events_rejected_total{reason="bad_field"} 1');
  });

  it('rejects a cache frame whose ts is not a positive integer', () => {
    const b = Buffer.alloc(64);
    let p = writeCacheFrame(b, 0, 'hit', undefined, 0);
    p = writeCacheFrame(b, p, 'hit', undefined, 1.5);
    p = writeCacheFrame(b, p, 'miss', 'pdf', NOW);
    const { decoder, seen } = feedBinary(b.subarray(0, p), mulberry32(4));
    expect(seen).toEqual([`cache ${JSON.stringify(['miss', NOW])}`]);
    expect(decoder.rejectedTotal).toBe(2);
  });

  it('rejects a request id longer than 128 and an endpoint outside the label alphabet', () => {
    const b = Buffer.alloc(1024);
    let p = writeEndpointFrame(b, 0, 0, '/a b');
    p = writeRequestFrame(b, p, 0, 'GET', 200, 0.1, NOW);
    p = writeEndpointFrame(b, p, 1, '/ok');
    p = writeRequestFrame(b, p, 1, 'GET', 200, 0.1, NOW, undefined, 'r'.repeat(129));
    p = writeRequestFrame(b, p, 1, 'GET', 200, 0.1, NOW);
    const { decoder, seen, frames } = feedBinary(b.subarray(0, p), mulberry32(2));
    expect(frames).toBe(3); // endpoint frames are not counted as events
    expect(seen).toHaveLength(1);
    expect(decoder.rejectedTotal).toBe(3); // the endpoint, the record using it, the long id
  });

  it('counts a frame cut off by the end of the stream as truncated', () => {
    const { bytes, at } = validFrames();
    for (let cut = 1; cut < bytes.length; cut++) {
      if (cut === at) continue; // the endpoint frame whole, nothing after it
      const { seen, truncated, frames } = feedBinary(bytes.subarray(0, cut), mulberry32(cut));
      expect(seen).toEqual([]);
      expect(frames).toBe(0);
      expect(truncated).toBe(true);
    }
  });

  it('survives 2,000 random corruptions of a valid stream: every frame counted once, nothing thrown', () => {
    const r = mulberry32(99);
    const events = Array.from({ length: 200 }, () => randomEvent(r));
    const clean = binaryStream(events);
    for (let round = 0; round < 2_000; round++) {
      const bytes = Buffer.from(clean);
      const flips = 1 + Math.floor(r() * 4);
      for (let i = 0; i < flips; i++) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
      const cut = r() < 0.3 ? Math.floor(r() * bytes.length) : bytes.length;
      const run = feedBinary(bytes.subarray(0, cut), r);
      // Every counted frame is accepted or rejected; an unknown type stops the reader.
      expect(run.decoder.receivedTotal + run.decoder.rejectedTotal).toBeGreaterThanOrEqual(run.frames);
      expect(run.seen.length).toBe(run.decoder.receivedTotal);
    }
  });
});
