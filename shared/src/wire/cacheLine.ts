import type { CacheEvent } from '../events.ts';
import { CACHE_RESULTS, FORMATS } from '../vocabulary.ts';
import { bytes, digitsValue, match, prefixedTimestampEnd } from './bytes.ts';

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
  let p = prefixedTimestampEnd(b, start, end, CACHE_PREFIX, 200);
  if (p < 0) return false;
  const ts = digitsValue(b, start + CACHE_PREFIX.length, p);
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

/** Encodes a cache event in the canonical shape the reader above accepts (no JSON.stringify on the hot path). */
export function encodeCacheLine(result: CacheEvent['result'], format: CacheEvent['format'], ts: number): string {
  return format === undefined
    ? `{"v":1,"kind":"cache","ts":${ts},"result":"${result}"}\n`
    : `{"v":1,"kind":"cache","ts":${ts},"result":"${result}","format":"${format}"}\n`;
}
