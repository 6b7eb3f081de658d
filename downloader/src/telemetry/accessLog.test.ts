import { describe, expect, it } from 'vitest';
import { acceptRequestId, sampledTraceId } from './accessLog.ts';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const P = '00f067aa0ba902b7';

describe('sampledTraceId (W3C traceparent)', () => {
  it.each([
    [`00-${T}-${P}-01`, T],
    [`00-${T}-${P}-03`, T], // sampled plus a future flag
    [` 00-${T}-${P}-01 `, T],
    [`00-${T}-${P}-00`, undefined], // not sampled: no exemplar
    [`00-${T}-${P}-02`, undefined],
    [`00-${'0'.repeat(32)}-${P}-01`, undefined],
    [`00-${T}-${'0'.repeat(16)}-01`, undefined],
    [`00-${T.toUpperCase()}-${P}-01`, undefined],
    [`ff-${T}-${P}-01`, undefined],
    [`01-${T}-${P}-01`, undefined],
    [`00-${T}-${P}-01-extra`, undefined],
    [`00-${T.slice(1)}-${P}-01`, undefined],
    ['', undefined],
    [undefined, undefined],
    [[`00-${T}-${P}-01`, `00-${T}-${P}-01`], undefined], // repeated header
  ])('%j -> %s', (header, expected) => {
    expect(sampledTraceId(header)).toBe(expected);
  });
});

describe('acceptRequestId', () => {
  it.each([
    ['abc-123', 'abc-123'],
    ['Root=1-5f84c7a5-ab12/cd+ef:gh.ij_kl', 'Root=1-5f84c7a5-ab12/cd+ef:gh.ij_kl'],
    ['x'.repeat(128), 'x'.repeat(128)],
  ])('keeps %s', (given, kept) => expect(acceptRequestId(given)).toBe(kept));

  it.each([['x'.repeat(129)], ['a b'], ['a"b'], ['é'], [''], [undefined], [['a', 'b']]])(
    'refuses %j (a UUID is made instead)',
    (given) => {
      expect(acceptRequestId(given)).toBeUndefined();
    },
  );
});
