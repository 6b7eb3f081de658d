import { isUtf8 } from 'node:buffer';
import { type EventInput, eventSchemas, MAX_LINE_BYTES, type TelemetryEvent, WIRE_VERSION } from './events.ts';
import { EVENT_KINDS, type EventKind } from './vocabulary.ts';

/** Why a line was not aggregated; `truncated`: a connection ended in the middle of a line. */
export const REJECT_REASONS = ['not_json', 'too_long', 'unknown_kind', 'bad_field', 'bad_version', 'truncated'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type DecodeResult = { ok: true; event: TelemetryEvent } | { ok: false; reason: RejectReason };

const kinds = new Set<string>(EVENT_KINDS);

/** Encodes one event as a single NDJSON line, newline included. */
export function encodeEvent(event: EventInput): string {
  return `${JSON.stringify({ v: WIRE_VERSION, ...event })}\n`;
}

/**
 * Validates one line (newline excluded). Never throws; every rejection names its reason.
 * The receivers call `decodeBytes`; this is the shared core.
 */
export function decodeEvent(line: string): DecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'bad_field' };
  const record = value as Record<string, unknown>;
  if (record.v !== WIRE_VERSION) return { ok: false, reason: 'bad_version' };
  const kind = record.kind;
  if (typeof kind !== 'string' || !kinds.has(kind)) return { ok: false, reason: 'unknown_kind' };
  // zod's Standard Schema `validate`, not `safeParse`: a failing `safeParse` answers with an object
  // whose `error` is a lazy getter, and one per rejected line moved ~250 KB of the exporter's 1 MiB
  // young generation to the old one at every scavenge (a passing parse: 0 bytes), so rejecting such
  // lines filled the old generation from 9 to 45 MB between one major collection and the next, over
  // and over. `validate` answers with the plain issues: nothing promoted, and a failure in under
  // half the time (a request with a string status: 0.7-1.1 against 1.5-2.4 us, Node 20 and 24; a
  // pass about the same, 0.4-0.7 us).
  const result = eventSchemas[kind as EventKind]['~standard'].validate(record);
  if (result instanceof Promise) {
    // Only an async or throwing schema answers later; none of ours is either. Refuse, and let the late answer go.
    result.catch(() => {});
    return { ok: false, reason: 'bad_field' };
  }
  return result.issues ? { ok: false, reason: 'bad_field' } : { ok: true, event: result.value as TelemetryEvent };
}

/** Bytes a JSON text can start with after its leading whitespace: { [ " - 0-9 t f n. */
const JSON_START = new Uint8Array(256);
for (const c of '{["-0123456789tfn') JSON_START[c.charCodeAt(0)] = 1;

/**
 * Whether `JSON.parse` could accept these bytes, judged by the first one that is not whitespace. A
 * line that cannot be JSON (empty, text, random bytes) is refused without a parse, whose exception
 * would cost a microsecond and an object per line to a client that sends nothing else.
 */
function mayBeJson(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return JSON_START[b] === 1;
  }
  return false;
}

// One object each: a client sending nothing but garbage costs no allocation per line.
const TOO_LONG: DecodeResult = Object.freeze({ ok: false, reason: 'too_long' });
const NOT_JSON: DecodeResult = Object.freeze({ ok: false, reason: 'not_json' });

/**
 * Validates one raw line from a transport, `bytes[start, end)`: length, UTF-8, then `decodeEvent`.
 * A line that cannot be JSON is refused before anything is allocated for it (20 clients sending
 * empty lines made Node 24's exporter grow 37 MiB outside its heap when each line got a view).
 */
export function decodeBytes(bytes: Uint8Array, start = 0, end = bytes.length): DecodeResult {
  if (end - start > MAX_LINE_BYTES) return TOO_LONG;
  if (!mayBeJson(bytes, start, end)) return NOT_JSON;
  const line = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start);
  return isUtf8(line) ? decodeEvent(line.toString('utf8')) : NOT_JSON;
}
