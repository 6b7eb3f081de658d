import { mulberry32 } from '@dl/testkit';
import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent } from '../codec.ts';
import { CACHE_RESULTS, ERROR_TYPE_NAMES, FORMATS, HTTP_METHODS } from '../vocabulary.ts';
import { readCacheLine } from './cacheLine.ts';
import { encodeRequestLine, RequestLineReader, readRequestLine } from './requestLine.ts';

const pick = <T>(r: () => number, xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
/** Mostly one of the first `valid` entries (the valid ones), sometimes anything. */
const biased = (r: () => number, xs: readonly string[], valid: number) => (r() < 0.8 ? pick(r, xs.slice(0, valid)) : pick(r, xs));
const TS = ['1764000000000', '1', '0', '01', '999999999999999', '1000000000000000', '-5', '1.5', '1e12'];
const ENDPOINTS = [
  '/health',
  'other',
  '/jobs/{job_id}/status',
  '/',
  'others',
  'health',
  '/a b',
  '/x?q',
  `/${'a'.repeat(127)}`,
  `/${'a'.repeat(128)}`,
  '',
  '/é',
];
const METHODS = ['GET', 'POST', 'DELETE', 'other', 'OTHER', 'get', 'BREW', 'GETX', ''];
const STATUSES = ['200', '100', '599', '099', '600', '404', '2000', '20', '"200"', '500.0'];
const DURATIONS = [
  '0',
  '0.0',
  '1',
  '0.123456789',
  '86400',
  '86400.0000001',
  '86401',
  '00',
  '01',
  '1.',
  '.5',
  '-1',
  '-0',
  '1e-7',
  '1E3',
  '0.1234567890123456789',
  '123456789012345678',
  '3.14159',
  '0.000001',
  'NaN',
  '1.0e2',
  '9007199254740993',
];

/** Mostly no error type, then valid ones, sometimes a malformed tail. */
const ERROR_TAILS = [
  '',
  ',"error_type":"upstream_error"',
  ',"error_type":"internal"',
  ',"error_type":"not_found"',
  ',"error_type":"teapot"',
  ',"error_type":""',
  ',"error_type":"internal","x":1',
  ',"error_type":null',
  ', "error_type":"internal"',
];

/** Mostly none, then well-formed ids, sometimes one out of the alphabet or too long. */
const REQUEST_ID_TAILS = [
  '',
  ',"request_id":"0b5c9d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e"',
  ',"request_id":"a"',
  `,"request_id":"${'x'.repeat(128)}"`,
  ',"request_id":"Root=1-abc/def+g:h.i_j"',
  `,"request_id":"${'x'.repeat(129)}"`,
  ',"request_id":""',
  ',"request_id":"a b"',
  ',"request_id":"a\\"b"',
  ',"request_id":"é"',
  ',"request_id":5',
];

/** Mostly none, then well-formed trace ids, sometimes upper case, all zero, short or long. */
const TRACE_ID_TAILS = [
  '',
  ',"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"',
  ',"trace_id":"00000000000000000000000000000001"',
  ',"trace_id":"00000000000000000000000000000000"',
  ',"trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736"',
  ',"trace_id":"4bf92f3577b34da6a3ce929d0e0e473"',
  ',"trace_id":"4bf92f3577b34da6a3ce929d0e0e47360"',
  ',"trace_id":"4bf92f3577b34da6a3ce929d0e0e473g"',
  ',"trace_id":null',
];

function randomLine(r: () => number): string {
  const tail = r() < 0.5 ? '' : biased(r, ERROR_TAILS, 4);
  const id = r() < 0.5 ? '' : biased(r, REQUEST_ID_TAILS, 5);
  const trace = r() < 0.6 ? '' : biased(r, TRACE_ID_TAILS, 3);
  return `{"v":1,"kind":"request","ts":${biased(r, TS, 2)},"endpoint":"${biased(r, ENDPOINTS, 4)}","method":"${biased(r, METHODS, 4)}","status":${biased(r, STATUSES, 4)},"duration_s":${biased(r, DURATIONS, 5)}${tail}${id}${trace}}`;
}

function mutate(r: () => number, line: string): string {
  const chars = [...line];
  const at = Math.floor(r() * chars.length);
  const op = r();
  if (op < 0.33) chars.splice(at, 1);
  else if (op < 0.66) chars.splice(at, 0, pick(r, ['"', ',', '}', '{', ' ', '0', '\\', 'a', 'é']));
  else chars[at] = pick(r, ['"', ':', '9', ' ', 'x']);
  return chars.join('');
}

describe('readRequestLine (fast path) agrees with JSON.parse + zod', () => {
  it('accepts only what the general decoder accepts, with identical events', () => {
    const r = mulberry32(7);
    let fastHits = 0;
    for (let i = 0; i < 60_000; i++) {
      const line = i % 3 === 2 ? mutate(r, randomLine(r)) : randomLine(r);
      const fast = readRequestLine(Buffer.from(line, 'utf8'));
      const slow = decodeEvent(line);
      if (fast) {
        fastHits++;
        expect(slow, line).toEqual({ ok: true, event: fast });
      }
    }
    expect(fastHits).toBeGreaterThan(10_000);
  });

  it.each([
    ['0.0001235', 0.0001235],
    ['12.5', 12.5],
    ['0.1', 0.1],
    ['0.30000000000000004', undefined], // 17 significant digits: general path
    ['1e-7', undefined],
  ])('reads duration %s exactly or defers', (text, value) => {
    const line = `{"v":1,"kind":"request","ts":1764000000000,"endpoint":"/x","method":"GET","status":200,"duration_s":${text}}`;
    const fast = readRequestLine(Buffer.from(line));
    expect(fast?.duration_s).toBe(value);
    expect(decodeEvent(line).ok).toBe(true);
  });

  it('reads what encodeRequestLine writes, request id and error type included', () => {
    const line = encodeRequestLine(
      '/{url}',
      'GET',
      404,
      0.25,
      1764000000000,
      'http_error',
      'req-42',
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    expect(line.endsWith('\n')).toBe(true);
    const expected = {
      v: 1,
      kind: 'request',
      ts: 1764000000000,
      endpoint: '/{url}',
      method: 'GET',
      status: 404,
      duration_s: 0.25,
      error_type: 'http_error',
      request_id: 'req-42',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    };
    expect(readRequestLine(Buffer.from(line.slice(0, -1)))).toEqual(expected);
    expect(decodeEvent(line.slice(0, -1))).toEqual({ ok: true, event: expected });
  });

  it('takes the downloader canonical line', () => {
    const line =
      '{"v":1,"kind":"request","ts":1764000000000,"endpoint":"/jobs/{job_id}/status","method":"DELETE","status":404,"duration_s":0.0001235}';
    expect(readRequestLine(Buffer.from(line))).toEqual({
      v: 1,
      kind: 'request',
      ts: 1764000000000,
      endpoint: '/jobs/{job_id}/status',
      method: 'DELETE',
      status: 404,
      duration_s: 0.0001235,
    });
  });
});

describe('RequestLineReader endpoint cache', () => {
  it('names each endpoint by its own bytes: hash collisions, reused buffers', () => {
    // "/Aa" and "/BB" hash alike (31-multiplier string hash); the cache keeps the first.
    const reader = new RequestLineReader();
    const line = (endpoint: string) =>
      `{"v":1,"kind":"request","ts":1764000000000,"endpoint":"${endpoint}","method":"GET","status":200,"duration_s":0.5}`;
    const buffer = Buffer.alloc(200);
    const endpoints: string[] = [];
    for (const endpoint of ['/Aa', '/BB', '/Aa', '/BB', '/health', '/Aa']) {
      // One buffer, overwritten line after line, as a transport reuses its read buffer.
      const n = buffer.write(line(endpoint));
      expect(reader.read(buffer, 0, n, (_ts, e) => endpoints.push(e))).toBe(true);
      buffer.fill(0x2f);
    }
    expect(endpoints).toEqual(['/Aa', '/BB', '/Aa', '/BB', '/health', '/Aa']);
  });
});

describe('readCacheLine (fast path) agrees with JSON.parse + zod', () => {
  const RESULTS = ['hit', 'miss', 'error', 'HIT', 'hits', ''];
  const FMTS = ['text', 'markdown', 'html', 'json', 'pdf', 'multi', 'docx', ''];
  function line(r: () => number): string {
    const ts = biased(r, TS, 2);
    const result = biased(r, RESULTS, 3);
    const format = r() < 0.3 ? '' : `,"format":"${biased(r, FMTS, 6)}"`;
    return `{"v":1,"kind":"cache","ts":${ts},"result":"${result}"${format}}`;
  }

  it('accepts only what the general decoder accepts, with identical events', () => {
    const r = mulberry32(11);
    let hits = 0;
    for (let i = 0; i < 30_000; i++) {
      const text = i % 3 === 2 ? mutate(r, line(r)) : line(r);
      let fast: unknown;
      const bytes = Buffer.from(text, 'utf8');
      const accepted = readCacheLine(bytes, 0, bytes.length, (ts, result, format) => {
        fast = { v: 1, kind: 'cache', ts, result, ...(format ? { format } : {}) };
      });
      if (accepted) {
        hits++;
        expect(decodeEvent(text), text).toEqual({ ok: true, event: fast });
      }
    }
    expect(hits).toBeGreaterThan(5_000);
  });

  it('takes the line the downloader writes', () => {
    const text = '{"v":1,"kind":"cache","ts":1764000000000,"result":"hit","format":"markdown"}';
    const seen: unknown[] = [];
    expect(readCacheLine(Buffer.from(text), 0, text.length, (...a) => seen.push(a))).toBe(true);
    expect(seen).toEqual([[1764000000000, 'hit', 'markdown']]);
  });
});

describe('the request line writer and its reader', () => {
  it('encodes lines the general decoder accepts, durations rounded to 0.1 us', () => {
    const line = encodeRequestLine('/jobs/{job_id}/status', 'DELETE', 404, 0.000123456789, 1_764_000_000_000);
    expect(decodeEvent(line.slice(0, -1))).toEqual({
      ok: true,
      event: {
        v: 1,
        kind: 'request',
        ts: 1_764_000_000_000,
        endpoint: '/jobs/{job_id}/status',
        method: 'DELETE',
        status: 404,
        duration_s: 0.0001235,
      },
    });
  });

  it('every line the writer can produce takes the fast path, with the event the general decoder builds', () => {
    const r = mulberry32(7);
    let n = 0;
    for (const method of HTTP_METHODS) {
      for (const endpoint of ['/health', 'other', '/{url}', '/jobs/{job_id}/results']) {
        for (let i = 0; i < 25; i++) {
          const errorType = i % 2 ? pick(r, ERROR_TYPE_NAMES) : undefined;
          const line = encodeRequestLine(
            endpoint,
            method,
            100 + Math.floor(r() * 500),
            r() * 100,
            1_764_000_000_000 + i,
            errorType,
          );
          const bytes = Buffer.from(line.slice(0, -1));
          const general = decodeEvent(line.slice(0, -1));
          expect(general.ok).toBe(true);
          expect(readRequestLine(bytes)).toEqual(general.ok ? general.event : undefined);
          n++;
        }
      }
    }
    expect(n).toBe(HTTP_METHODS.length * 4 * 25);
  });
});

describe('the cache line the downloader writes (encodeEvent) and its reader', () => {
  it.each(CACHE_RESULTS.flatMap((result) => [undefined, ...FORMATS].map((format) => [result, format] as const)))(
    'reads %s / %s exactly as the general decoder does',
    (result, format) => {
      const line = encodeEvent({ kind: 'cache', ts: 1_764_000_000_000, result, ...(format ? { format } : {}) }).slice(0, -1);
      const general = decodeEvent(line);
      let fast: unknown;
      const b = Buffer.from(line);
      expect(
        readCacheLine(
          b,
          0,
          b.length,
          (ts, res, fmt) => (fast = { v: 1, kind: 'cache', ts, result: res, ...(fmt ? { format: fmt } : {}) }),
        ),
      ).toBe(true);
      expect(general).toEqual({ ok: true, event: fast });
    },
  );
});
