import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventInput } from '@dl/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBlockedAddress } from './addresses.ts';
import { retryAfterMs, UpstreamClient, UpstreamError } from './client.ts';

/** A local origin whose behaviour each test scripts per path; it counts what reached it. */
let origin: Server;
let base = '';
let port = 0;
const hits = new Map<string, number>();
const routes = new Map<string, (req: IncomingMessage, res: ServerResponse, n: number) => void>();

beforeAll(async () => {
  origin = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    const route = routes.get(path);
    if (route) route(req, res, n);
    else res.writeHead(404).end('no');
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  port = (origin.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => origin.close());

function client(over: Partial<ConstructorParameters<typeof UpstreamClient>[0]> = {}) {
  const events: EventInput[] = [];
  const c = new UpstreamClient({
    allowPrivate: false,
    allowAddresses: ['127.0.0.1'], // the test origin; every other private address stays refused
    sleep: async () => {},
    headersTimeoutMs: 500,
    bodyTimeoutMs: 500,
    emit: (e) => events.push(e),
    ...over,
  });
  return { c, events };
}

describe('UpstreamClient', () => {
  it('retries 503 twice and reports retries: 2 in its event', async () => {
    routes.set('/flaky', (_q, res, n) =>
      n <= 2 ? res.writeHead(503).end('busy') : res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'),
    );
    const { c, events } = client();
    const r = await c.fetch(`${base}/flaky`);
    expect(r).toMatchObject({ status: 200, retries: 2 });
    expect(r.body.toString()).toBe('ok');
    expect(events).toEqual([expect.objectContaining({ kind: 'upstream', outcome: 'ok', status: 200, retries: 2, bytes: 2 })]);
    await c.close();
  });

  it('waits what Retry-After asks (seconds or a date) when it fits the budget, then retries', async () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    routes.set('/slow-down', (_q, res, n) =>
      n === 1
        ? res.writeHead(429, { 'retry-after': '2' }).end()
        : n === 2
          ? res.writeHead(503, { 'retry-after': 'Mon, 30 Nov 2026 12:00:03 GMT' }).end()
          : res.writeHead(200).end('x'),
    );
    const waits: number[] = [];
    const { c } = client({ sleep: async (ms) => void waits.push(ms), retryMaxMs: 5_000, now: () => now });
    expect((await c.fetch(`${base}/slow-down`)).status).toBe(200);
    expect(waits).toEqual([2_000, 3_000]);
    await c.close();
  });

  it('fails fast when Retry-After asks for more than the budget: one request, no early retry, its wait passed on', async () => {
    routes.set('/come-back-later', (_q, res) => res.writeHead(429, { 'retry-after': '120' }).end());
    const waits: number[] = [];
    const { c, events } = client({ sleep: async (ms) => void waits.push(ms), retryMaxMs: 5_000 });
    const err = await c.fetch(`${base}/come-back-later`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ outcome: 'http_error', status: 429, retryAfterS: 120, retries: 0 });
    expect((err as Error).message).toBe(
      'the target answered 429 and asked to wait 120 s (Retry-After), beyond the retry budget of 5 s',
    );
    expect(waits).toEqual([]);
    expect(hits.get('/come-back-later')).toBe(1);
    expect(events).toEqual([expect.objectContaining({ outcome: 'http_error', status: 429, retries: 0 })]);
    await c.close();
  });

  it.each([
    ['120', 120_000],
    [' 7 ', 7_000],
    ['Mon, 30 Nov 2026 12:01:00 GMT', 60_000],
    ['Mon, 30 Nov 2026 11:00:00 GMT', 0], // in the past: now
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['12345678901', undefined],
    [undefined, undefined],
  ])('reads Retry-After %s as %s ms', (header, ms) => {
    expect(retryAfterMs(header, Date.parse('2026-11-30T12:00:00Z'))).toBe(ms);
  });

  it('follows redirects by hand up to the limit', async () => {
    routes.set('/hop1', (_q, res) => res.writeHead(302, { location: '/hop2' }).end());
    routes.set('/hop2', (_q, res) => res.writeHead(301, { location: `${base}/final` }).end());
    routes.set('/final', (_q, res) => res.writeHead(200).end('landed'));
    routes.set('/loop', (_q, res) => res.writeHead(302, { location: '/loop' }).end());
    const { c, events } = client({ maxRedirects: 3 });
    const r = await c.fetch(`${base}/hop1`);
    expect(r).toMatchObject({ status: 200, url: `${base}/final` });
    await expect(c.fetch(`${base}/loop`)).rejects.toMatchObject({ outcome: 'http_error' });
    expect(events.map((e) => (e as { outcome: string }).outcome)).toEqual(['ok', 'http_error']);
    await c.close();
  });

  it('refuses a redirect hop to a private address', async () => {
    routes.set('/to-metadata', (_q, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end());
    routes.set('/to-loopback', (_q, res) => res.writeHead(302, { location: `http://127.0.0.2:${port}/final` }).end());
    const { c } = client();
    await expect(c.fetch(`${base}/to-metadata`)).rejects.toMatchObject({ outcome: 'blocked' });
    await expect(c.fetch(`${base}/to-loopback`)).rejects.toMatchObject({ outcome: 'blocked' });
    await c.close();
  });

  it('stops a body past the size limit, and a declared length before reading', async () => {
    routes.set('/big', (_q, res) => {
      res.writeHead(200);
      res.end(Buffer.alloc(300_000, 0x61));
    });
    routes.set('/big-chunked', (_q, res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      for (let i = 0; i < 30; i++) res.write(Buffer.alloc(10_000, 0x62));
      res.end();
    });
    const { c } = client({ maxBytes: 100_000 });
    await expect(c.fetch(`${base}/big`)).rejects.toMatchObject({ outcome: 'too_large' });
    await expect(c.fetch(`${base}/big-chunked`)).rejects.toMatchObject({ outcome: 'too_large' });
    await c.close();
  });

  it('times out a stalled origin', async () => {
    routes.set('/stall', () => {}); // never answers
    const { c, events } = client({ maxRetries: 0 });
    await expect(c.fetch(`${base}/stall`)).rejects.toMatchObject({ outcome: 'timeout' });
    expect(events[0]).toMatchObject({ outcome: 'timeout' });
    await c.close();
  });

  it('opens the breaker after consecutive failures, fails fast, half-opens after the cool-down, closes on success', async () => {
    let healthy = false;
    routes.set('/fragile', (_q, res) => (healthy ? res.writeHead(200).end('fine') : res.writeHead(500).end('down')));
    let now = 1_000_000;
    const { c, events } = client({ breakerFailures: 3, breakerCooldownMs: 10_000, maxRetries: 0, now: () => now });
    for (let i = 0; i < 3; i++) expect((await c.fetch(`${base}/fragile`)).status).toBe(500);
    const before = hits.get('/fragile');
    await expect(c.fetch(`${base}/fragile`)).rejects.toMatchObject({ outcome: 'circuit_open' });
    expect(hits.get('/fragile')).toBe(before); // fast fail: the origin saw nothing
    expect(c.breakers.counts()).toEqual({ closed: 0, open: 1, half_open: 0 });
    now += 10_001;
    expect(c.breakers.counts()).toEqual({ closed: 0, open: 0, half_open: 1 });
    healthy = true;
    expect((await c.fetch(`${base}/fragile`)).status).toBe(200);
    expect(c.breakers.counts()).toEqual({ closed: 0, open: 0, half_open: 0 });
    expect(events.at(-2)).toMatchObject({ outcome: 'circuit_open' });
    await c.close();
  });

  describe('SSRF: refused with DOWNLOADER_ALLOW_PRIVATE off, before any connection', () => {
    const p = () => port;
    it.each([
      ['loopback', () => `http://127.0.0.1:${p()}/final`],
      ['localhost', () => `http://localhost:${p()}/final`],
      ['IPv6 loopback', () => `http://[::1]:${p()}/final`],
      ['unspecified', () => `http://0.0.0.0:${p()}/final`],
      ['10/8', () => 'http://10.1.2.3/'],
      ['172.16/12', () => 'http://172.20.0.1/'],
      ['192.168/16', () => 'http://192.168.1.1/'],
      ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/'],
      ['decimal loopback', () => `http://2130706433:${p()}/final`],
      ['short loopback', () => `http://127.1:${p()}/final`],
      ['IPv4-mapped IPv6', () => `http://[::ffff:127.0.0.1]:${p()}/final`],
      ['CGNAT', () => 'http://100.64.0.1/'],
      ['file scheme', () => 'file:///etc/passwd'],
    ])('%s', async (_name, url) => {
      const { c, events } = new (class {
        events: EventInput[] = [];
        c = new UpstreamClient({ allowPrivate: false, emit: (e) => this.events.push(e), sleep: async () => {} });
      })();
      const before = hits.get('/final') ?? 0;
      const err = await c.fetch(url()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamError);
      expect((err as UpstreamError).outcome).toBe('blocked');
      expect(hits.get('/final') ?? 0).toBe(before);
      expect(events[0]).toMatchObject({ outcome: 'blocked', retries: 0 });
      await c.close();
    });

    it('lets everything through with DOWNLOADER_ALLOW_PRIVATE=1', async () => {
      routes.set('/final', (_q, res) => res.writeHead(200).end('landed'));
      const c = new UpstreamClient({ allowPrivate: true });
      expect((await c.fetch(`http://localhost:${port}/final`)).status).toBe(200);
      await c.close();
    });
  });

  it.each([
    ['8.8.8.8', false],
    ['1.1.1.1', false],
    ['2606:4700:4700::1111', false],
    ['127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['64:ff9b::10.0.0.1', true],
    ['fd00:ec2::254', true],
    ['fe80::1', true],
    ['224.0.0.1', true],
    ['not-an-ip', true],
    // The notations that once passed (a connect was attempted): IPv4-compatible, -translated, 6to4
    ['[::127.0.0.1]', true],
    ['[::7f00:1]', true],
    ['[::ffff:0:7f00:1]', true],
    ['[2002:7f00:1::]', true],
    // NAT64, local-use NAT64, Teredo, and other non-global entries of the IANA registries
    ['64:ff9b::7f00:1', true],
    ['64:ff9b:1::8.8.8.8', true],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', true], // Teredo client 127.0.0.1
    ['192.88.99.1', true],
    ['100::1', true],
    ['2001:2::1', true],
    ['2001:db8::1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['198.18.0.1', true],
    ['255.255.255.255', true],
    ['0.0.0.0', true],
    ['::', true],
    // Embedded forms of public addresses reach public addresses
    ['64:ff9b::8.8.8.8', false],
    ['[2002:808:808::]', false],
    ['::ffff:8.8.8.8', false],
  ])('isBlockedAddress(%s) = %s', (ip, expected) => expect(isBlockedAddress(ip)).toBe(expected));
});
