import net from 'node:net';
import { SystemUnderTest, sumSamples, waitFor } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Sends raw bytes and reads everything until the server closes: what Node itself answers. */
function raw(port: number, request: string | Buffer): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head, body });
    });
    socket.end(request);
  });
}

describe("hostile input gets a 4xx JSON error, and counts as the caller's", () => {
  const sut = new SystemUnderTest({}, { POLL_INTERVAL_S: '0.3', HEALTH_WINDOW: '60' });
  beforeAll(() => sut.start());
  afterAll(() => sut.stop());

  it.each([
    ['/http%3A%2F%2Fexample.com%2F%zz', /malformed percent-encoding/],
    ['/https%3A%2F%2Fexample.com%2F%E0%A4%A', /malformed percent-encoding/],
    ['/file:///etc/passwd', /scheme file: is not allowed/],
    ['/gopher://127.0.0.1:6379/_INFO', /scheme gopher: is not allowed/],
    ['/data:text/plain,hello', /scheme data: is not allowed/],
    ['/javascript:alert(1)', /scheme javascript: is not allowed/],
    ['/FILE%3A%2F%2F%2Fetc%2Fpasswd', /scheme file: is not allowed/],
  ])('GET %s answers 400 invalid_url', async (path, message) => {
    const res = await fetch(`${sut.base}${path}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { success: boolean; error: string; error_type: string };
    expect(body).toMatchObject({ success: false, error_type: 'invalid_url' });
    expect(body.error).toMatch(message);
  });

  it.each([
    ['a 100 kB URL', `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'headers_too_large'],
    ['a 64 kB header', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\n\r\n`, 431, 'headers_too_large'],
    ['a NUL byte in a header', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n', 400, 'invalid_request'],
    ['a bad request line', 'BREW COFFEE\r\n\r\n', 400, 'invalid_request'],
  ])('%s, rejected by Node itself, still answers %i with a JSON body', async (_what, request, status, type) => {
    const r = await raw(sut.port, request);
    expect(r.status).toBe(status);
    expect(r.headers.toLowerCase()).toContain('content-type: application/json');
    expect(JSON.parse(r.body)).toMatchObject({ success: false, error_type: type });
  });

  it("200 malformed URLs cost the service nothing: all 400, all counted as the caller's", async () => {
    const statuses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => fetch(`${sut.base}/http%3A%2F%2Fexample.com%2F${i}%zz`).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 400)).toHaveLength(200);
    const m = await waitFor('200 client errors counted', async () => {
      const x = await sut.metrics();
      return sumSamples(x, 'downloader_requests_total', { status: '400', cause: 'client' }) >= 200 ? x : undefined;
    });
    expect(sumSamples(m, 'downloader_requests_total', { cause: 'service' })).toBe(0);
    const h = await sut.json<{ factors: Record<string, { penalty: number }> }>('/metrics/health-score');
    expect(h.factors.error_rate?.penalty).toBe(0);
    expect(sut.downloader.output()).not.toContain('unhandled error');
  });
});

describe('POST /batch against hostile bodies and webhooks', () => {
  const sut = new SystemUnderTest({ WEBHOOK_SECRET: 'shh', BATCH_BODY_MAX_BYTES: '4096' });
  beforeAll(() => sut.start());
  afterAll(() => sut.stop());
  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${sut.base}/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      duplex: 'half',
    } as RequestInit);
  const rss = async () =>
    (await (await fetch(`http://127.0.0.1:${sut.adminPort}/internal/stats`)).json()).process.resident_memory_bytes as number;

  it('refuses a body over BATCH_BODY_MAX_BYTES with 413 JSON, declared or streamed, and reads no more of it', async () => {
    const declared = await post(JSON.stringify({ urls: [{ url: `https://example.com/${'a'.repeat(5000)}` }] }));
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ success: false, error_type: 'body_too_large' });
    const before = await rss();
    // 200 MiB in 1 MiB chunks with no Content-Length: refused while reading.
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 200) controller.close();
        else {
          sent++;
          controller.enqueue(chunk);
        }
      },
    });
    const streamed = await post(stream).catch((e: Error) => e);
    if (!(streamed instanceof Error)) {
      expect(streamed.status).toBe(413);
      expect(await streamed.json()).toMatchObject({ error_type: 'body_too_large' });
    }
    expect((await rss()) - before).toBeLessThan(10 * 1024 * 1024);
    expect((await fetch(`${sut.base}/health`)).status).toBe(200);
  });

  it.each([
    'http://127.0.0.1:8001/internal/stats',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:127.0.0.1]/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'http://localhost/hook',
  ])('refuses webhook_url %s at submit with 400 invalid_url', async (hook) => {
    const res = await post(JSON.stringify({ urls: [{ url: 'https://example.com/' }], webhook_url: hook }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ success: false, error_type: 'invalid_url' });
  });
});
