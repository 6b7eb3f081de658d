import { type LogLine, logLines, Origin, RedisServer, requireBinary, SystemUnderTest, waitFor } from '@dl/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const hasRedis = requireBinary('redis-server');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const KEY = 'k3y-never-logged';

describe.skipIf(!hasRedis)('structured logs and request ids (real downloader, exporter over a Redis stream)', () => {
  const origin = new Origin();
  const redis = new RedisServer();
  let sut: SystemUnderTest;
  const auth = { authorization: `Bearer ${KEY}` };
  const access = (id: string) =>
    waitFor(`access line of ${id}`, () =>
      logLines(sut.downloader.output()).find((l) => l.msg === 'request' && l.request_id === id),
    );

  beforeAll(async () => {
    await origin.start();
    origin.static('/page', 'text/plain', 'a page');
    await redis.start();
    const env = { EVENTS_TRANSPORT: 'redis', REDIS_URL: redis.url };
    sut = await new SystemUnderTest({ ...env, DOWNLOADER_ALLOW_PRIVATE: '1', DOWNLOADER_KEY: KEY }, env).start();
  });
  afterAll(async () => {
    await sut?.stop(); // fails if any line either process wrote is not a JSON log line
    await redis.stop();
    await origin.stop();
  });

  it('echoes a well-formed X-Request-Id and logs one access line with it: route, status, duration, bytes', async () => {
    const res = await fetch(`${sut.base}/health`, { headers: { 'x-request-id': 'client-req-0001' } });
    expect(res.headers.get('x-request-id')).toBe('client-req-0001');
    const body = await res.text();
    const line = await access('client-req-0001');
    expect(line).toMatchObject({
      level: 'info',
      service: 'downloader',
      method: 'GET',
      route: '/health',
      status: 200,
    });
    // Headers included, as nginx's $bytes_sent: the body plus a status line and a dozen headers.
    expect(line.bytes_sent).toBeGreaterThan(Buffer.byteLength(body) + 100);
    expect(line.bytes_sent).toBeLessThan(Buffer.byteLength(body) + 1000);
    expect(line.duration_ms).toBeGreaterThan(0);
    expect(Date.parse(line.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(logLines(sut.downloader.output()).filter((l) => l.request_id === 'client-req-0001')).toHaveLength(1);
  });

  it.each([
    ['spaces', 'a b c'],
    ['a quote', 'id"injected'],
    ['a newline escape', 'id\\nfake'],
    ['too long', 'x'.repeat(129)],
  ])('replaces an X-Request-Id with %s by a generated UUID', async (_what, given) => {
    const res = await fetch(`${sut.base}/health`, { headers: { 'x-request-id': given } });
    const id = res.headers.get('x-request-id') ?? '';
    expect(id).toMatch(UUID);
    expect((await access(id)).route).toBe('/health');
  });

  it('never logs the target URL, its query string or the API key; an error line names its error type', async () => {
    const target = `${origin.base}/missing?token=s3cret-in-query`;
    const res = await fetch(`${sut.base}/${target}`, { headers: auth });
    expect(res.status).toBe(404);
    const id = res.headers.get('x-request-id') ?? '';
    expect(id).toMatch(UUID);
    expect(await access(id)).toMatchObject({ route: '/{url}', status: 404, error_type: 'http_error' });
    const unauthorized = await fetch(`${sut.base}/${target}`, { headers: { authorization: 'Bearer wrong-key-guess' } });
    expect(unauthorized.status).toBe(401);
    await access(unauthorized.headers.get('x-request-id') ?? '');
    const out = sut.downloader.output();
    for (const secret of ['s3cret-in-query', KEY, 'wrong-key-guess', '/missing', origin.base]) expect(out).not.toContain(secret);
  });

  it("carries a caller's request id in the request event, the job and its status; a generated id only in the answer and the log", async () => {
    // Before the batch, so its event is in the stream by the time the batch's is (one emitter, in order).
    const generated = (await fetch(`${sut.base}/health`)).headers.get('x-request-id') ?? '';
    expect(generated).toMatch(UUID);
    expect((await access(generated)).route).toBe('/health');
    const res = await fetch(`${sut.base}/batch`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'x-request-id': 'batch-req-7' },
      body: JSON.stringify({ urls: [{ url: `${origin.base}/page` }] }),
    });
    expect(res.status).toBe(202);
    const { job_id } = (await res.json()) as { job_id: string };
    const status = await waitFor('job done', async () => {
      const s = (await (await fetch(`${sut.base}/jobs/${job_id}/status`, { headers: auth })).json()) as {
        status: string;
        request_id?: string;
      };
      return s.status === 'completed' ? s : undefined;
    });
    expect(status.request_id).toBe('batch-req-7');
    expect((await access('batch-req-7')).route).toBe('/batch');
    // The event as it crossed the transport (the Redis stream keeps it after the exporter read it);
    // it is there within a flush interval of the answer, which may be after the job is done.
    const client = new Redis(redis.url);
    const read = async () =>
      (await client.xrange('downloader:events', '-', '+')).flatMap(([, fields]) =>
        (fields[fields.indexOf('e') + 1] ?? '')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { kind: string; endpoint?: string; request_id?: string }),
      );
    const events = await waitFor('the /batch request event in the stream', async () => {
      const all = await read();
      return all.some((e) => e.kind === 'request' && e.request_id === 'batch-req-7') ? all : undefined;
    });
    client.disconnect();
    expect(events.filter((e) => e.kind === 'request' && e.request_id === 'batch-req-7')).toEqual([
      expect.objectContaining({ endpoint: '/batch', status: 202 }),
    ]);
    expect(events.filter((e) => e.kind === 'request' && e.request_id === 'client-req-0001')).toHaveLength(1);
    // Every request of this suite is in the stream; only the ids callers sent are in events.
    const ids = events.flatMap((e) => (e.kind === 'request' && e.request_id !== undefined ? [e.request_id] : []));
    expect(ids.filter((id) => UUID.test(id))).toEqual([]);
    expect(
      events.filter((e) => e.kind === 'request' && e.endpoint === '/health' && e.request_id === undefined).length,
    ).toBeGreaterThan(0);
  });
});

describe('LOG_LEVEL', () => {
  const sut = new SystemUnderTest({ LOG_LEVEL: 'warn' });
  beforeAll(() => sut.start());
  afterAll(() => sut.stop());

  it('warn: no access or start-up lines, and still the request id header', async () => {
    const res = await fetch(`${sut.base}/health`);
    expect(res.headers.get('x-request-id')).toMatch(UUID);
    await new Promise((r) => setTimeout(r, 300));
    const lines: LogLine[] = logLines(sut.downloader.output());
    expect(lines.filter((l) => l.level === 'info' || l.level === 'debug')).toEqual([]);
  });
});
