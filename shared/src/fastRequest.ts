import { CACHE_RESULTS, type CacheEvent, FORMATS, HTTP_METHODS, MAX_LINE_BYTES, type RequestEvent } from './events.ts';

/**
 * A byte-level reader for the one line shape the downloader writes on its hot path:
 *   {"v":1,"kind":"request","ts":T,"endpoint":"E","method":"M","status":S,"duration_s":D}
 * It accepts a line only when every byte fits that shape and every value passes the same checks as
 * the zod schema; anything else returns undefined and takes the general path (JSON.parse + zod).
 * So validation stays exact while the common line costs no JSON.parse, no zod and no UTF-8 decode.
 */

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const PREFIX = bytes('{"v":1,"kind":"request","ts":');
const ENDPOINT_KEY = bytes(',"endpoint":"');
const METHOD_KEY = bytes('","method":"');
const STATUS_KEY = bytes('","status":');
const DURATION_KEY = bytes(',"duration_s":');
const METHODS = HTTP_METHODS.map((m) => ({ name: m, bytes: bytes(m) }));
const MAX_DURATION_S = 86_400;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i); // exactly representable up to 1e22

/** [A-Za-z0-9_\-./{}], the endpoint label alphabet of ENDPOINT_PATTERN. */
const ENDPOINT_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./{}') ENDPOINT_CHAR[c.charCodeAt(0)] = 1;

const DIGIT_0 = 0x30;
const isDigit = (c: number | undefined) => c !== undefined && c >= DIGIT_0 && c <= 0x39;

function match(b: Uint8Array, at: number, expected: Uint8Array): number {
  if (at + expected.length > b.length) return -1; // callers bound by line end via the final '}' check
  for (let i = 0; i < expected.length; i++) if (b[at + i] !== expected[i]) return -1;
  return at + expected.length;
}

/**
 * End of the `ts` field starting at `p` (-1 if `p` is): 1 to 15 digits, no leading zero, so the
 * value is a positive safe integer exactly as the schema demands.
 */
function timestampEnd(b: Uint8Array, p: number): number {
  if (p < 0 || !isDigit(b[p]) || b[p] === DIGIT_0) return -1;
  let q = p;
  while (isDigit(b[q])) q++;
  return q - p > 15 ? -1 : q;
}

function digitsValue(b: Uint8Array, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + ((b[i] as number) - DIGIT_0);
  return v;
}

/** Parses a JSON number without sign at `p`; exact (Clinger's fast path) or undefined. */
function readNumber(b: Uint8Array, p: number, end: number): number | undefined {
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  if (b[p] === DIGIT_0) {
    p++;
  } else if (isDigit(b[p])) {
    while (p < end && isDigit(b[p])) {
      mantissa = mantissa * 10 + ((b[p] as number) - DIGIT_0);
      digits++;
      p++;
    }
  } else {
    return undefined;
  }
  if (b[p] === 0x2e) {
    p++;
    if (!isDigit(b[p])) return undefined;
    while (p < end && isDigit(b[p])) {
      mantissa = mantissa * 10 + ((b[p] as number) - DIGIT_0);
      if (mantissa !== 0) digits++;
      scale++;
      p++;
    }
  }
  // Exponents, long mantissas and anything after the number take the general path.
  if (p !== end || digits > 15 || scale > 22) return undefined;
  return mantissa / (POW10[scale] as number);
}

/** Receives the fields of one accepted request line; no event object is built on the fast path. */
export type RequestVisitor = (
  ts: number,
  endpoint: string,
  method: RequestEvent['method'],
  status: number,
  durationS: number,
) => void;

const INTERN_LIMIT = 4096;

/**
 * Reads canonical request lines. Holds a bounded cache of endpoint strings (keyed by a hash of the
 * bytes, checked byte for byte) so a known endpoint costs no allocation.
 */
export class RequestLineReader {
  private readonly endpoints = new Map<number, string>();

  /**
   * Reads `b[start, end)`, the newline excluded; `b[end]` must be the newline or past the buffer.
   * Calls `visit` and returns true only if the line is accepted.
   */
  read(b: Uint8Array, start: number, end: number, visit: RequestVisitor): boolean {
    if (end - start > MAX_LINE_BYTES || b[end - 1] !== 0x7d) return false;
    const tsStart = match(b, start, PREFIX);
    let p = timestampEnd(b, tsStart);
    if (p < 0) return false;
    const ts = digitsValue(b, tsStart, p);

    p = match(b, p, ENDPOINT_KEY);
    if (p < 0) return false;
    const eStart = p;
    let hash = 0;
    while (p < end && ENDPOINT_CHAR[b[p] as number] === 1) hash = (Math.imul(hash, 31) + (b[p++] as number)) | 0;
    const eLength = p - eStart;
    if (eLength === 0 || eLength > 128) return false;
    const endpoint = this.intern(b, eStart, p, hash);
    if (b[eStart] !== 0x2f && endpoint !== 'other') return false;

    p = match(b, p, METHOD_KEY);
    if (p < 0) return false;
    let method: RequestEvent['method'] | undefined;
    for (const m of METHODS) {
      const after = match(b, p, m.bytes);
      if (after > 0 && b[after] === 0x22) {
        method = m.name;
        p = after;
        break;
      }
    }
    if (method === undefined) return false;

    p = match(b, p, STATUS_KEY);
    if (p < 0) return false;
    const s0 = b[p] as number;
    if (s0 < 0x31 || s0 > 0x35 || !isDigit(b[p + 1]) || !isDigit(b[p + 2])) return false;
    const status = (s0 - DIGIT_0) * 100 + ((b[p + 1] as number) - DIGIT_0) * 10 + ((b[p + 2] as number) - DIGIT_0);

    p = match(b, p + 3, DURATION_KEY);
    if (p < 0) return false;
    const duration = readNumber(b, p, end - 1);
    if (duration === undefined || duration > MAX_DURATION_S) return false;
    visit(ts, endpoint, method, status, duration);
    return true;
  }

  private intern(b: Uint8Array, start: number, end: number, hash: number): string {
    const known = this.endpoints.get(hash);
    if (known !== undefined && known.length === end - start) {
      let same = true;
      for (let i = 0; i < known.length; i++) {
        if (known.charCodeAt(i) !== b[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return known;
    }
    const fresh = Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
    if (known === undefined && this.endpoints.size < INTERN_LIMIT) this.endpoints.set(hash, fresh);
    return fresh;
  }
}

/** The fast path as a plain decoder, building the event it accepted (tests, tools). */
export function readRequestLine(b: Uint8Array, reader = new RequestLineReader()): RequestEvent | undefined {
  let event: RequestEvent | undefined;
  reader.read(b, 0, b.length, (ts, endpoint, method, status, duration_s) => {
    event = { v: 1, kind: 'request', ts, endpoint, method, status, duration_s };
  });
  return event;
}

const CACHE_PREFIX = bytes('{"v":1,"kind":"cache","ts":');
const RESULT_KEY = bytes(',"result":"');
const FORMAT_KEY = bytes('","format":"');
const CACHE_RESULT_BYTES = CACHE_RESULTS.map((r) => ({ name: r, bytes: bytes(`${r}"`) }));
const FORMAT_BYTES = FORMATS.map((f) => ({ name: f, bytes: bytes(`${f}"}`) }));

/** Receives an accepted cache line. */
export type CacheVisitor = (ts: number, result: CacheEvent['result'], format: CacheEvent['format']) => void;

/**
 * The cache lookup line the downloader writes once per cached download,
 *   {"v":1,"kind":"cache","ts":T,"result":"hit|miss|error"[,"format":"text|..."]}
 * read with the same rule as request lines: exactly this shape and values the schema accepts, or
 * false and the general decoder decides.
 */
export function readCacheLine(b: Uint8Array, start: number, end: number, visit: CacheVisitor): boolean {
  if (end - start > 200 || b[end - 1] !== 0x7d) return false;
  const tsStart = match(b, start, CACHE_PREFIX);
  let p = timestampEnd(b, tsStart);
  if (p < 0) return false;
  const ts = digitsValue(b, tsStart, p);
  p = match(b, p, RESULT_KEY);
  if (p < 0) return false;
  const result = CACHE_RESULT_BYTES.find((r) => match(b, p, r.bytes) > 0);
  if (!result) return false;
  p += result.bytes.length;
  if (p === end - 1 && b[p] === 0x7d) {
    visit(ts, result.name, undefined);
    return true;
  }
  p = match(b, p - 1, FORMAT_KEY);
  if (p < 0) return false;
  const format = FORMAT_BYTES.find((f) => match(b, p, f.bytes) === end);
  if (!format) return false;
  visit(ts, result.name, format.name);
  return true;
}
