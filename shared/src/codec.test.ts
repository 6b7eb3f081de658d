import { isUtf8 } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { mulberry32 } from '@dl/testkit';
import { describe, expect, it } from 'vitest';
import { decodeBytes, decodeEvent, encodeEvent, type RejectReason } from './codec.ts';
import type { EventInput } from './events.ts';

const ts = 1_764_000_000_000;
const valid: EventInput[] = [
  { kind: 'hello', ts, instance: 'dl-1', pid: 42, version: '0.1.0', started_at: ts - 5 },
  { kind: 'request', ts, endpoint: '/download', method: 'GET', status: 200, duration_s: 0.012 },
  {
    kind: 'request',
    ts,
    endpoint: '/jobs/{job_id}/status',
    method: 'GET',
    status: 404,
    duration_s: 0,
    bytes: 12,
    format: 'json',
    request_id: 'abc',
  },
  { kind: 'request', ts, endpoint: 'other', method: 'other', status: 599, duration_s: 86_400 },
  { kind: 'upstream', ts, outcome: 'ok', status: 200, duration_s: 0.3, retries: 2, bytes: 1000 },
  { kind: 'upstream', ts, outcome: 'circuit_open', duration_s: 0, retries: 0 },
  { kind: 'cache', ts, result: 'hit', format: 'markdown' },
  { kind: 'cache', ts, result: 'error' },
  { kind: 'pdf', ts, outcome: 'unavailable', duration_s: 0.001 },
  { kind: 'webhook', ts, outcome: 'failed', attempts: 5, duration_s: 12.5 },
  { kind: 'job', ts, status: 'created', urls: 3 },
  { kind: 'job', ts, status: 'completed', urls: 3, duration_s: 4.2 },
  { kind: 'dropped', ts, count: 17 },
  { kind: 'request', ts, endpoint: '/{url}', method: 'GET', status: 502, duration_s: 0.3, error_type: 'upstream_error' },
  { kind: 'upstream', ts, outcome: 'network', duration_s: 2, retries: 3, host_hash: '0123456789abcdef' },
];

describe('encode/decode', () => {
  it.each(valid.map((e) => [e.kind, e]))('round-trips a valid %s event', (_kind, event) => {
    const line = encodeEvent(event);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    const result = decodeEvent(line.slice(0, -1));
    expect(result).toEqual({ ok: true, event: { v: 1, ...event } });
  });

  const req = { v: 1, kind: 'request', ts, endpoint: '/x', method: 'GET', status: 200, duration_s: 0.1 };
  const cases: [string, string, RejectReason][] = [
    ['empty line', '', 'not_json'],
    ['not JSON', 'hello world', 'not_json'],
    ['truncated JSON', '{"v":1,"kind":"request"', 'not_json'],
    ['JSON array', '[1,2,3]', 'bad_field'],
    ['JSON string', '"request"', 'bad_field'],
    ['JSON null', 'null', 'bad_field'],
    ['missing version', JSON.stringify({ ...req, v: undefined }), 'bad_version'],
    ['wrong version', JSON.stringify({ ...req, v: 2 }), 'bad_version'],
    ['version as string', JSON.stringify({ ...req, v: '1' }), 'bad_version'],
    ['unknown kind', JSON.stringify({ ...req, kind: 'span' }), 'unknown_kind'],
    ['kind missing', JSON.stringify({ ...req, kind: undefined }), 'unknown_kind'],
    ['kind is a prototype key', JSON.stringify({ ...req, kind: 'constructor' }), 'unknown_kind'],
    ['missing field', JSON.stringify({ ...req, status: undefined }), 'bad_field'],
    ['status as string', JSON.stringify({ ...req, status: '200' }), 'bad_field'],
    ['status out of range', JSON.stringify({ ...req, status: 600 }), 'bad_field'],
    ['status fractional', JSON.stringify({ ...req, status: 200.5 }), 'bad_field'],
    ['negative duration', JSON.stringify({ ...req, duration_s: -0.1 }), 'bad_field'],
    ['raw URL as endpoint', JSON.stringify({ ...req, endpoint: 'https://example.com/a?b=c' }), 'bad_field'],
    ['endpoint with query', JSON.stringify({ ...req, endpoint: '/x?id=1' }), 'bad_field'],
    ['endpoint with quote', JSON.stringify({ ...req, endpoint: '/x"y' }), 'bad_field'],
    ['endpoint too long', JSON.stringify({ ...req, endpoint: `/${'a'.repeat(200)}` }), 'bad_field'],
    ['unknown method', JSON.stringify({ ...req, method: 'BREW' }), 'bad_field'],
    ['ts fractional', JSON.stringify({ ...req, ts: 1.5 }), 'bad_field'],
    ['ts missing', JSON.stringify({ ...req, ts: undefined }), 'bad_field'],
    [
      'bad upstream outcome',
      JSON.stringify({ v: 1, kind: 'upstream', ts, outcome: 'meh', duration_s: 1, retries: 0 }),
      'bad_field',
    ],
    ['dropped zero', JSON.stringify({ v: 1, kind: 'dropped', ts, count: 0 }), 'bad_field'],
    ['error type unknown', JSON.stringify({ ...req, status: 502, error_type: 'teapot' }), 'bad_field'],
    ['error type not a string', JSON.stringify({ ...req, status: 502, error_type: 7 }), 'bad_field'],
    ...(['example.com:443', 'ABCDEF0123456789', '0123456789abcdef0', 12] as const).map((hash): [string, string, RejectReason] => [
      `host hash ${JSON.stringify(hash)}`,
      JSON.stringify({ v: 1, kind: 'upstream', ts, outcome: 'network', duration_s: 1, retries: 0, host_hash: hash }),
      'bad_field',
    ]),
    ['cache result unknown', JSON.stringify({ v: 1, kind: 'cache', ts, result: 'maybe' }), 'bad_field'],
    ['job negative urls', JSON.stringify({ v: 1, kind: 'job', ts, status: 'created', urls: -1 }), 'bad_field'],
  ];
  it.each(cases)('rejects %s', (_name, line, reason) => {
    expect(decodeEvent(line)).toEqual({ ok: false, reason });
  });

  it('rejects over-long lines and invalid UTF-8 from bytes', () => {
    expect(decodeBytes(Buffer.alloc(8 * 1024 + 1, 0x20))).toEqual({ ok: false, reason: 'too_long' });
    const bad = Buffer.concat([
      Buffer.from('{"v":1,"kind":"request","endpoint":"/'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    expect(decodeBytes(bad)).toEqual({ ok: false, reason: 'not_json' });
    const good = Buffer.from(encodeEvent(valid[1] as EventInput).trimEnd());
    expect(decodeBytes(good).ok).toBe(true);
  });

  it('refuses what cannot be JSON without parsing it, with the verdict JSON.parse would give', () => {
    // The slow path the shortcut must agree with: UTF-8, then JSON.parse and the schema.
    const slow = (b: Buffer) => (isUtf8(b) ? decodeEvent(b.toString('utf8')) : { ok: false, reason: 'not_json' });
    const lines = [
      '',
      '   ',
      '\t\r',
      'hello',
      ' {"v":1}',
      '\r\n[1]',
      '"str"',
      '-1',
      '7',
      'true',
      'nul',
      'x{}',
      '\uFEFF{}',
      encodeEvent(valid[1] as EventInput).trimEnd(),
    ].map((l) => Buffer.from(l));
    const random = mulberry32(7);
    for (let i = 0; i < 5_000; i++)
      lines.push(Buffer.from(Array.from({ length: Math.floor(random() * 12) }, () => Math.floor(random() * 256))));
    for (const line of lines) expect(decodeBytes(line), JSON.stringify([...line])).toEqual(slow(line));
    // The same lines as ranges of a larger chunk, as the receivers pass them.
    for (const line of lines) {
      const chunk = Buffer.concat([Buffer.from('{"v":1}\n'), line, Buffer.from('\n[1]')]);
      expect(decodeBytes(chunk, 8, 8 + line.length), JSON.stringify([...line])).toEqual(slow(line));
    }
  });

  it('keeps extra fields out of the decoded event (forward compatible)', () => {
    const result = decodeEvent(JSON.stringify({ ...req, trace: 'x' }));
    expect(result).toEqual({ ok: true, event: req });
  });
});

describe('rejecting valid JSON with a bad field', () => {
  // In a process with the exporter's 1 MiB young generation, V8's GC profiler reports what each
  // scavenge moved to the old generation. zod's safeParse answered a failure with a lazy-error object
  // that moved ~70 MB there over these 200,000 lines (~190 KB a scavenge); validate moves next to nothing.
  it('promotes almost nothing to the old generation while it rejects 200,000 lines', () => {
    const script = `
      import { GCProfiler } from 'node:v8';
      const { decodeEvent } = await import(${JSON.stringify(new URL('./codec.ts', import.meta.url).href)});
      const line = ${JSON.stringify(JSON.stringify({ v: 1, kind: 'request', ts, endpoint: '/x', method: 'GET', status: '200', duration_s: 0.1 }))};
      const verdicts = new Set();
      for (let i = 0; i < 20_000; i++) decodeEvent(line);
      const profiler = new GCProfiler();
      profiler.start();
      for (let i = 0; i < 200_000; i++) verdicts.add(decodeEvent(line).reason);
      const old = (at) => at.heapSpaceStatistics.find((s) => s.spaceName === 'old_space').spaceUsedSize;
      let promoted = 0;
      let scavenges = 0;
      for (const gc of profiler.stop().statistics)
        if (gc.gcType === 'Scavenge') {
          scavenges++;
          promoted += old(gc.afterGC) - old(gc.beforeGC);
        }
      console.log(JSON.stringify({ promoted, scavenges, verdicts: [...verdicts] }));
    `;
    const out = execFileSync(
      process.execPath,
      ['--max-semi-space-size=1', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
      },
    );
    const { promoted, scavenges, verdicts } = JSON.parse(out) as { promoted: number; scavenges: number; verdicts: string[] };
    expect(verdicts).toEqual(['bad_field']);
    expect(scavenges).toBeGreaterThan(50); // the lines did allocate: the measure saw collections
    expect(promoted).toBeLessThan(1024 * 1024);
  });
});
