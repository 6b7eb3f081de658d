/**
 * Byte-level pieces shared by the exact line readers: literal matching, the `ts` field and JSON
 * numbers, each accepting exactly what JSON.parse + the zod schema accept, or nothing.
 */

export const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i); // exactly representable up to 1e22

export const DIGIT_0 = 0x30;
export const isDigit = (c: number | undefined) => c !== undefined && c >= DIGIT_0 && c <= 0x39;

export function match(b: Uint8Array, at: number, expected: Uint8Array): number {
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

/**
 * Where the `ts` digits end in a line `b[start, end)` that opens with `prefix` (which ends in
 * `"ts":`), is at most `maxLength` bytes and closes with `}`; -1 for any other line.
 */
export function prefixedTimestampEnd(b: Uint8Array, start: number, end: number, prefix: Uint8Array, maxLength: number): number {
  if (end - start > maxLength || b[end - 1] !== 0x7d) return -1;
  return timestampEnd(b, match(b, start, prefix));
}

export function digitsValue(b: Uint8Array, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + ((b[i] as number) - DIGIT_0);
  return v;
}

/** Parses a JSON number without sign at `p`; exact (Clinger's fast path) or undefined. */
export function readNumber(b: Uint8Array, p: number, end: number): number | undefined {
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
