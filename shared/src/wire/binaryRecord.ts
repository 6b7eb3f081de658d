import type { RejectReason } from '../codec.ts';
import { MAX_LINE_BYTES, type RequestEvent } from '../events.ts';
import { CACHE_RESULTS, ERROR_TYPE_NAMES, type ErrorType, type EventEncoding, FORMATS, HTTP_METHODS } from '../vocabulary.ts';
import type { CacheVisitor } from './cacheLine.ts';
// The alphabets are the NDJSON reader's (a byte of 128 or more reads undefined: refused).
import { ENDPOINT_CHAR, encodeRequestLine, REQUEST_ID_CHAR, type RequestVisitor } from './requestLine.ts';

/**
 * The binary wire format (`binary-v1`), the socket's default between our own emitter and exporter.
 * A connection opens with an NDJSON hello whose `encoding` is `binary-v1`; every byte after its
 * newline is a sequence of frames, little-endian:
 *
 *   request  0x01 flags:u8 endpoint:u16 method:u8 error_type:u8 status:u16 ts:f64 duration_s:f64
 *                 [trace_id: 16 bytes, flags & 2] [request_id_length:u8 request_id, flags & 4]
 *            (flags & 1: error_type is present; 24 bytes without the optional tail)
 *   endpoint 0x02 id:u16 length:u8 bytes     defines (or redefines) an endpoint id on this connection
 *   event    0x03 length:u16 bytes           any event as its NDJSON line, newline excluded
 *   cache    0x04 result:u8 format:u8 ts:f64  a cache lookup (format 0: none, else its index + 1)
 *
 * Endpoints (the only free-form strings an aggregate keys on) are sent once per connection as a
 * dictionary; methods and error types are indexes into the contract's closed lists. A request record
 * is written straight into the emitter's buffer (no string per event) and read without allocating
 * (the endpoint string comes from the dictionary). Every value passes the same checks as the zod
 * schema, so a record is accepted exactly when its NDJSON line would be.
 *
 * Acknowledgements count request, cache and event frames (accepted or rejected), never endpoint frames.
 */
export const BINARY_ENCODING = 'binary-v1' satisfies EventEncoding;

export const FRAME_REQUEST = 0x01;
export const FRAME_ENDPOINT = 0x02;
export const FRAME_EVENT = 0x03;
export const FRAME_CACHE = 0x04;
export const CACHE_FRAME_BYTES = 11;

const FLAG_ERROR = 1;
const FLAG_TRACE = 2;
const FLAG_REQUEST_ID = 4;
const FLAGS_KNOWN = FLAG_ERROR | FLAG_TRACE | FLAG_REQUEST_ID;

const REQUEST_FIXED = 24;
const TRACE_BYTES = 16;
/** Endpoint ids per connection; past it the emitter sends the event as an NDJSON frame. */
export const MAX_ENDPOINT_IDS = 4096;
/** Longest request frame plus the endpoint frame that may precede it. */
export const MAX_REQUEST_FRAMES_BYTES = REQUEST_FIXED + TRACE_BYTES + 1 + 128 + 4 + 128;
/** Longest endpoint a dictionary entry holds (ENDPOINT_PATTERN's limit). */
export const MAX_ENDPOINT_BYTES = 128;

const METHOD_INDEX = new Map<string, number>(HTTP_METHODS.map((m, i) => [m, i]));
const ERROR_INDEX = new Map<string, number>(ERROR_TYPE_NAMES.map((t, i) => [t, i]));
const CACHE_INDEX = new Map<string, number>(CACHE_RESULTS.map((r, i) => [r, i]));
const FORMAT_INDEX = new Map<string, number>(FORMATS.map((f, i) => [f, i]));
const MAX_DURATION_S = 86_400;

/** Writes an endpoint frame at `at`; returns where it ends. */
export function writeEndpointFrame(b: Buffer, at: number, id: number, endpoint: string): number {
  b[at] = FRAME_ENDPOINT;
  b.writeUInt16LE(id, at + 1);
  const n = b.write(endpoint, at + 4, 'latin1');
  b[at + 3] = n;
  return at + 4 + n;
}

/** Writes a cache frame; returns where it ends. */
export function writeCacheFrame(b: Buffer, at: number, result: string, format: string | undefined, ts: number): number {
  b[at] = FRAME_CACHE;
  b[at + 1] = CACHE_INDEX.get(result) ?? 255;
  b[at + 2] = format === undefined ? 0 : (FORMAT_INDEX.get(format) ?? 254) + 1;
  viewOf(b).setFloat64(at + 3, ts, true);
  return at + CACHE_FRAME_BYTES;
}

/** Writes an event frame carrying `line` (newline-terminated; the newline is not sent). */
export function writeEventFrame(b: Buffer, at: number, line: string): number {
  b[at] = FRAME_EVENT;
  const n = b.write(line, at + 3, line.length - 1, 'latin1');
  b.writeUInt16LE(n, at + 1);
  return at + 3 + n;
}

/**
 * Writes a request frame; returns where it ends. The duration is rounded to 100 ns as the NDJSON
 * writer rounds it, so both encodings carry the same value.
 */
export function writeRequestFrame(
  b: Buffer,
  at: number,
  endpointId: number,
  method: string,
  status: number,
  durationS: number,
  ts: number,
  errorType?: ErrorType,
  requestId?: string,
  traceId?: string,
): number {
  const flags =
    (errorType === undefined ? 0 : FLAG_ERROR) |
    (traceId === undefined ? 0 : FLAG_TRACE) |
    (requestId === undefined ? 0 : FLAG_REQUEST_ID);
  const v = viewOf(b);
  b[at] = FRAME_REQUEST;
  b[at + 1] = flags;
  v.setUint16(at + 2, endpointId, true);
  b[at + 4] = METHOD_INDEX.get(method) ?? HTTP_METHODS.length - 1;
  b[at + 5] = errorType === undefined ? 0 : (ERROR_INDEX.get(errorType) as number);
  v.setUint16(at + 6, status, true);
  v.setFloat64(at + 8, ts, true);
  v.setFloat64(at + 16, Math.round(durationS * 1e7) / 1e7, true);
  let p = at + REQUEST_FIXED;
  if (traceId !== undefined) p += b.write(traceId, p, TRACE_BYTES, 'hex');
  if (requestId !== undefined) {
    // A request id is at most 128 characters of a closed ASCII set: a loop beats a call into C++.
    const n = requestId.length;
    b[p] = n;
    for (let i = 0; i < n; i++) b[p + 1 + i] = requestId.charCodeAt(i);
    p += 1 + n;
  }
  return p;
}

let lastBuffer: Buffer | undefined;
let lastView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
/** A DataView of the emitter's buffer (its number writes compile to plain stores), made once per buffer. */
function viewOf(b: Buffer): DataView<ArrayBufferLike> {
  if (b !== lastBuffer) {
    lastBuffer = b;
    lastView = new DataView(b.buffer, b.byteOffset, b.length);
  }
  return lastView;
}

export interface BinaryFrameHandlers {
  request: RequestVisitor;
  cache: CacheVisitor;
  /** An event frame: its NDJSON line is `bytes[start, end)`. */
  event: (bytes: Buffer, start: number, end: number) => void;
  reject: (reason: RejectReason) => void;
}

/**
 * Reads one connection's frames, chunk by chunk. Holds the connection's endpoint dictionary and at
 * most one unfinished frame. A frame of an unknown type cannot be skipped (its length is unknown):
 * it is rejected as `bad_version` and the reader stops (`failed`); the caller closes the connection.
 */
export class BinaryFrameReader {
  private readonly endpoints: (string | undefined)[] = [];
  private carry: Buffer | undefined;
  /** The chunk being read, as a DataView: its number reads compile to plain loads. */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  failed = false;

  constructor(private readonly on: BinaryFrameHandlers) {}

  /** Feeds one chunk; returns how many request and event frames it completed (accepted or rejected). */
  push(chunk: Buffer): number {
    if (this.failed) return 0;
    let b = chunk;
    if (this.carry) {
      b = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    this.view = new DataView(b.buffer, b.byteOffset, b.length);
    let frames = 0;
    let p = 0;
    while (p < b.length) {
      const end = this.frameEnd(b, p);
      if (end < 0) {
        this.failed = true;
        this.on.reject('bad_version');
        return frames;
      }
      if (end > b.length) {
        // Copy: the chunk's memory belongs to the socket. At most one frame is ever held.
        this.carry = Buffer.from(b.subarray(p));
        return frames;
      }
      if (this.frame(b, p, end)) frames++;
      p = end;
    }
    return frames;
  }

  /** The stream has ended: whether an unfinished frame was dropped (reported as `truncated`). */
  finish(): boolean {
    const unfinished = this.carry !== undefined;
    this.carry = undefined;
    return unfinished;
  }

  /** Where the frame at `p` ends (may be past the buffer); -1 for an unknown type. */
  private frameEnd(b: Buffer, p: number): number {
    const type = b[p];
    const left = b.length - p;
    if (type === FRAME_REQUEST) {
      if (left < REQUEST_FIXED) return p + REQUEST_FIXED;
      const flags = b[p + 1] as number;
      const end = p + REQUEST_FIXED + (flags & FLAG_TRACE ? TRACE_BYTES : 0);
      if (!(flags & FLAG_REQUEST_ID)) return end;
      // The request id's length byte not read yet: past the buffer, so the caller waits for more.
      return end < b.length ? end + 1 + (b[end] as number) : end + 1;
    }
    if (type === FRAME_ENDPOINT) return left < 4 ? p + 4 : p + 4 + (b[p + 3] as number);
    if (type === FRAME_EVENT) return left < 3 ? p + 3 : p + 3 + b.readUInt16LE(p + 1);
    if (type === FRAME_CACHE) return p + CACHE_FRAME_BYTES;
    return -1;
  }

  /** Handles the complete frame `b[p, end)`; returns whether it counts (request and event frames). */
  private frame(b: Buffer, p: number, end: number): boolean {
    const type = b[p];
    if (type === FRAME_EVENT) {
      if (end - p - 3 > MAX_LINE_BYTES) this.on.reject('too_long');
      else this.on.event(b, p + 3, end);
      return true;
    }
    if (type === FRAME_ENDPOINT) {
      this.defineEndpoint(b, p, end);
      return false;
    }
    if (type === FRAME_CACHE) {
      if (!this.cache(b, p)) this.on.reject('bad_field');
      return true;
    }
    if (!this.request(b, p)) this.on.reject('bad_field');
    return true;
  }

  private defineEndpoint(b: Buffer, p: number, end: number): void {
    const id = b.readUInt16LE(p + 1);
    const start = p + 4;
    let valid = id < MAX_ENDPOINT_IDS && end > start && end - start <= 128;
    for (let i = start; valid && i < end; i++) if (ENDPOINT_CHAR[b[i] as number] !== 1) valid = false;
    const name = valid ? b.toString('latin1', start, end) : '';
    if (!valid || (name[0] !== '/' && name !== 'other')) {
      if (id < MAX_ENDPOINT_IDS) this.endpoints[id] = undefined;
      this.on.reject('bad_field');
      return;
    }
    if (this.endpoints[id] !== name) this.endpoints[id] = name;
  }

  /** Visits the cache frame at `p` if every field is valid; false rejects it. */
  private cache(b: Buffer, p: number): boolean {
    const result = CACHE_RESULTS[b[p + 1] as number];
    const f = b[p + 2] as number;
    const format = f === 0 ? undefined : FORMATS[f - 1];
    const ts = this.view.getFloat64(p + 3, true);
    if (result === undefined || (f !== 0 && format === undefined) || !(ts > 0 && Number.isSafeInteger(ts))) return false;
    this.on.cache(ts, result, format);
    return true;
  }

  /** Visits the request frame at `p` if every field is valid; false rejects it. */
  private request(b: Buffer, p: number): boolean {
    const v = this.view;
    const flags = b[p + 1] as number;
    const endpoint = this.endpoints[v.getUint16(p + 2, true)];
    const method = HTTP_METHODS[b[p + 4] as number];
    const status = v.getUint16(p + 6, true);
    const ts = v.getFloat64(p + 8, true);
    const duration = v.getFloat64(p + 16, true);
    const errorType = flags & FLAG_ERROR ? ERROR_TYPE_NAMES[b[p + 5] as number] : undefined;
    if (
      (flags & ~FLAGS_KNOWN) !== 0 ||
      (flags & FLAG_ERROR ? errorType === undefined : b[p + 5] !== 0) ||
      endpoint === undefined ||
      method === undefined ||
      !(status >= 100 && status <= 599) ||
      !(ts > 0 && Number.isSafeInteger(ts)) ||
      !(duration >= 0 && duration <= MAX_DURATION_S)
    )
      return false;
    let q = p + REQUEST_FIXED;
    let traceId: string | undefined;
    if (flags & FLAG_TRACE) {
      let zero = true;
      for (let i = q; i < q + TRACE_BYTES; i++) if (b[i] !== 0) zero = false;
      if (zero) return false;
      traceId = b.toString('hex', q, q + TRACE_BYTES);
      q += TRACE_BYTES;
    }
    if (flags & FLAG_REQUEST_ID) {
      const n = b[q] as number;
      if (n === 0 || n > 128) return false;
      for (let i = q + 1; i <= q + n; i++) if (REQUEST_ID_CHAR[b[i] as number] !== 1) return false;
    }
    this.on.request(ts, endpoint, method as RequestEvent['method'], status, duration, errorType, traceId);
    return true;
  }
}

/** The request frames that carry `event`, endpoint id 0 defined first (tests, tools). */
export function encodeRequestFrames(event: RequestEvent): Buffer {
  const b = Buffer.alloc(MAX_REQUEST_FRAMES_BYTES);
  let p = writeEndpointFrame(b, 0, 0, event.endpoint);
  p = writeRequestFrame(
    b,
    p,
    0,
    event.method,
    event.status,
    event.duration_s,
    event.ts,
    event.error_type,
    event.request_id,
    event.trace_id,
  );
  return b.subarray(0, p);
}

/**
 * Bytes of a typical request event in an encoding: a download answered 200, with the generated
 * request id (a UUID) every request carries. Sizes the downloader's buffer check.
 */
export function typicalRequestBytes(encoding: EventEncoding): number {
  const id = '00000000-0000-4000-8000-000000000000';
  const ts = 1_790_000_000_000;
  if (encoding === 'ndjson') return encodeRequestLine('/{url}', 'GET', 200, 0.1234567, ts, undefined, id).length;
  return writeRequestFrame(Buffer.alloc(MAX_REQUEST_FRAMES_BYTES), 0, 0, 'GET', 200, 0.1234567, ts, undefined, id);
}
