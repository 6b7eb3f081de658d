import type { ServerResponse } from 'node:http';
import { ARTICLE_HTML, Origin, SystemUnderTest, sumSamples, waitFor } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

describe('GET /{url} against a local origin (DOWNLOADER_ALLOW_PRIVATE=1)', () => {
  const origin = new Origin();
  const sut = new SystemUnderTest({ DOWNLOADER_ALLOW_PRIVATE: '1' }, { POLL_INTERVAL_S: '0.3' });
  const get = (target: string, accept?: string) => fetch(`${sut.base}/${target}`, { headers: accept ? { accept } : {} });

  beforeAll(async () => {
    await origin.start();
    origin
      .static('/article', 'text/html; charset=utf-8', ARTICLE_HTML)
      .static('/plain', 'text/plain; charset=utf-8', 'just some text\nin two lines')
      .static('/not-a-document', 'text/html', 'hi there')
      .static('/empty', 'text/html', '')
      .static('/fragment', 'text/html', '<p>one</p><p>two</p>')
      .static('/comment', 'text/html', '<!-- only a comment --> and a word')
      .static('/data.json', 'application/json', '{"a":1}')
      .static('/pixel.png', 'image/png', PNG)
      .route('/echo', (req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(req.url ?? ''))
      .static('/forbidden', 'text/plain', 'no', 403)
      .static('/broken', 'text/plain', 'oops', 500);
    await sut.start();
  });
  afterAll(async () => {
    await sut.stop();
    await origin.stop();
  });

  it('text/plain (default): the main article, boilerplate gone, paragraphs kept apart', async () => {
    const res = await get(`${origin.base}/article`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('Field notes');
    expect(text).toContain('We counted 412 birds by noon');
    expect(text).toContain('Juveniles: 41');
    for (const boilerplate of ['About us', 'cookie notice', 'Copyright 2026']) expect(text).not.toContain(boilerplate);
    expect(text).toMatch(/October,[^\n]*\n\nCounting/);
    expect(res.headers.get('x-original-url')).toBe(`${origin.base}/article`);
    expect(res.headers.get('x-original-content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('x-content-length')).toBe(String(Buffer.byteLength(ARTICLE_HTML)));
    expect(res.headers.get('x-cache')).toBe('MISS');
  });

  it.each([
    ['/not-a-document', 'hi there', 'hi there'],
    ['/empty', '', ''],
    ['/fragment', 'one\n\ntwo', 'one\n\ntwo'],
    ['/comment', 'and a word', 'and a word'],
  ])('HTML that is not a whole document (%s): its text, never a 500', async (path, text, markdown) => {
    const plain = await get(`${origin.base}${path}`);
    expect(plain.status).toBe(200);
    expect(await plain.text()).toBe(text);
    const md = await get(`${origin.base}${path}`, 'text/markdown');
    expect(md.status).toBe(200);
    expect(await md.text()).toBe(markdown);
  });

  it('text/markdown: headings, emphasis and lists as Markdown', async () => {
    const md = await (await get(`${origin.base}/article`, 'text/markdown')).text();
    expect(md).toMatch(/^# Field notes/);
    expect(md).toContain('## Counting');
    expect(md).toContain('**412 birds**');
    expect(md).toMatch(/^- {1,3}Adults: 371$/m);
    expect(md).not.toContain('Copyright');
  });

  it('text/html: the original bytes and content type', async () => {
    const res = await get(`${origin.base}/article`, 'text/html');
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toBe(ARTICLE_HTML);
  });

  it('application/json: base64 content and metadata', async () => {
    const body = (await (await get(`${origin.base}/pixel.png`, 'application/json')).json()) as Record<string, unknown> & {
      metadata: { status_code: number; headers: Record<string, string> };
    };
    expect(body).toMatchObject({ success: true, url: `${origin.base}/pixel.png`, size: PNG.length, content_type: 'image/png' });
    expect(Buffer.from(body.content as string, 'base64').equals(PNG)).toBe(true);
    expect(body.metadata.status_code).toBe(200);
    expect(body.metadata.headers['content-type']).toBe('image/png');
  });

  it('several types at one q, as the original documents: one JSON object keyed by media type, plus errors', async () => {
    const res = await get(`${origin.base}/article`, 'text/plain, text/markdown, application/pdf');
    const body = (await res.json()) as Record<string, unknown> & {
      'text/plain': string;
      'text/markdown': string;
      'application/pdf': { content: string };
      errors: Record<string, string>;
    };
    expect(Object.keys(body)).toEqual(['text/plain', 'text/markdown', 'application/pdf', 'errors']);
    expect(body['text/plain']).toContain('412 birds');
    expect(body['text/markdown']).toContain('**412 birds**');
    expect(Buffer.from(body['application/pdf'].content, 'base64').subarray(0, 5).toString()).toBe('%PDF-');
    expect(body.errors).toEqual({});
    const original = (await (await get(`${origin.base}/article`, 'text/html, text/markdown')).json()) as object;
    expect(Object.keys(original)).toEqual(['text/html', 'text/markdown', 'errors']);
  });

  it("gives an ordinary client (axios' default Accept) one representation, and honours q=0", async () => {
    const axios = await get(`${origin.base}/article`, 'application/json, text/plain, */*');
    expect(axios.headers.get('content-type')).toContain('application/json');
    expect(await axios.json()).toMatchObject({ success: true, url: `${origin.base}/article` });
    const noPdf = await get(`${origin.base}/article`, 'application/pdf;q=0, text/plain');
    expect(noPdf.headers.get('content-type')).toContain('text/plain');
    expect(await noPdf.text()).toContain('412 birds');
  });

  it('passes non-HTML text through, and refuses to "extract" text from an image', async () => {
    expect(await (await get(`${origin.base}/plain`)).text()).toBe('just some text\nin two lines');
    expect(await (await get(`${origin.base}/data.json`, 'text/markdown')).text()).toBe('{"a":1}');
    const img = await get(`${origin.base}/pixel.png`, 'text/plain');
    expect(img.status).toBe(415);
    expect(await img.json()).toMatchObject({ success: false, error_type: 'unsupported_content' });
  });

  it("keeps the target's own query string and accepts a percent-encoded URL", async () => {
    expect(await (await get(`${origin.base}/echo?q=1&b=two`)).text()).toBe('/echo?q=1&b=two');
    expect(await (await get(encodeURIComponent(`${origin.base}/plain`))).text()).toContain('just some text');
  });

  it.each([
    [
      "a target's 404, passed through as the original does",
      () => `${origin.base}/missing`,
      undefined,
      404,
      'http_error',
      'HTTP 404: Not Found',
    ],
    ["a target's 403, passed through", () => `${origin.base}/forbidden`, undefined, 403, 'http_error', 'HTTP 403: Forbidden'],
    ["a target's 500, as 502", () => `${origin.base}/broken`, undefined, 502, 'http_error', 'HTTP 500: Internal Server Error'],
    ['a scheme that is not http(s)', () => 'http:', undefined, 400, 'invalid_url', undefined],
    ['an unknown Accept type', () => `${origin.base}/article`, 'image/webp', 406, 'unsupported_format', undefined],
    ['a host that does not resolve', () => 'http://no-such-host.invalid/', undefined, 502, 'upstream_error', undefined],
  ])('answers %s with a JSON error', async (_name, target, accept, status, type, message) => {
    const res = await get(target(), accept);
    expect(res.status).toBe(status);
    const body = await res.json();
    expect(body).toMatchObject({ success: false, error_type: type });
    if (message) expect(body).toMatchObject({ error: message, upstream_status: status === 502 ? 500 : status });
  });

  it('reports every fetch as an upstream event and every download under /{url}', async () => {
    const m = await waitFor('events counted', async () => {
      const s = await sut.metrics();
      return sumSamples(s, 'downloader_requests_total', { endpoint: '/{url}' }) >= 27 ? s : undefined;
    });
    expect(sumSamples(m, 'downloader_requests_total', { endpoint: '/{url}' })).toBe(27);
    // Six of the 27 were served from the cache without a fetch; five fetches failed.
    expect(sumSamples(m, 'downloader_upstream_requests_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(13);
    expect(sumSamples(m, 'downloader_upstream_requests_total', { outcome: 'http_error' })).toBeGreaterThanOrEqual(1);
    await waitFor('the HTTP client reported up', async () =>
      sumSamples(await sut.metrics(), 'downloader_component_up', { component: 'http_client' }) === 1 ? true : undefined,
    );
  });
});

describe('GET /{url} with DOWNLOADER_ALLOW_PRIVATE off', () => {
  const origin = new Origin();
  const sut = new SystemUnderTest({});
  beforeAll(async () => {
    await origin.start();
    origin.static('/secret', 'text/plain', 'internal');
    await sut.start();
  });
  afterAll(async () => {
    await sut.stop();
    await origin.stop();
  });

  it.each([
    '127.0.0.1',
    'localhost',
    '[::1]',
    '2130706433',
    '127.1',
    '[::127.0.0.1]',
    '[::7f00:1]',
    '[::ffff:0:7f00:1]',
    '[2002:7f00:1::]',
  ])('refuses %s with 403 and never reaches it', async (host) => {
    const res = await fetch(`${sut.base}/http://${host}:${origin.port}/secret`);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ success: false, error_type: 'blocked_target' });
    expect(origin.hits.get('/secret') ?? 0).toBe(0);
  });
});

describe("GET /{url} and the target's manners", () => {
  const origin = new Origin();
  const held: ServerResponse[] = [];
  const sut = new SystemUnderTest({ DOWNLOADER_ALLOW_PRIVATE: '1', FETCH_HEADERS_TIMEOUT_S: '0.5' });
  beforeAll(async () => {
    await origin.start();
    origin
      .route('/never', (_req, res) => void held.push(res))
      .route('/busy', (_req, res) => res.writeHead(429, { 'retry-after': '120' }).end())
      .route('/viral', (_req, res) => {
        setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('everyone reads this'), 300);
      });
    await sut.start();
  });
  afterAll(async () => {
    for (const r of held.splice(0)) r.destroy();
    await sut.stop();
    await origin.stop();
  });

  it('a target that never answers: 504 upstream_timeout after FETCH_HEADERS_TIMEOUT_S', async () => {
    const t0 = Date.now();
    const res = await fetch(`${sut.base}/${origin.base}/never`);
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ success: false, error_type: 'upstream_timeout' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
  });

  it('a Retry-After beyond the retry budget fails fast: one request to the target, 502 upstream_error with its Retry-After', async () => {
    const t0 = Date.now();
    const res = await fetch(`${sut.base}/${origin.base}/busy`);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(res.status).toBe(502);
    expect(res.headers.get('retry-after')).toBe('120');
    expect(await res.json()).toEqual({
      success: false,
      error_type: 'upstream_error',
      error: 'the target answered 429 and asked to wait 120 s (Retry-After), beyond the retry budget of 5 s',
      upstream_status: 429,
    });
    expect(origin.hits.get('/busy')).toBe(1);
  });

  it('ten concurrent misses of one URL, in three formats: the origin sees one request, every client its answer', async () => {
    const accepts = ['text/plain', 'text/markdown', 'application/json'];
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        fetch(`${sut.base}/${origin.base}/viral`, { headers: { accept: accepts[i % 3] as string } }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200));
    const bodies = await Promise.all(replies.map((r) => r.text()));
    expect(bodies.filter((b) => b.includes('everyone reads this'))).toHaveLength(7); // JSON carries it base64
    expect(origin.hits.get('/viral')).toBe(1);
  });
});

describe('hostile pages: conversion in a worker, within CONVERT_TIMEOUT_S', () => {
  const origin = new Origin();
  const sut = new SystemUnderTest(
    { DOWNLOADER_ALLOW_PRIVATE: '1', CONVERT_TIMEOUT_S: '1', CONVERT_QUEUE_MAX: '1' },
    { POLL_INTERVAL_S: '0.3' },
  );
  const page = (body: string) => `<!doctype html><html><head><title>t</title></head><body>${body}</body></html>`;

  beforeAll(async () => {
    await origin.start();
    origin
      // Readability spent 27 s on this, then overflowed its stack; linkedom 26 s parsing the second.
      .static('/nested', 'text/html', page(`${'<div>'.repeat(50_000)}bottom${'</div>'.repeat(50_000)}`))
      .static('/unclosed', 'text/html', page(`${'<b>'.repeat(200_000)}x`))
      .static('/fine', 'text/html', page('<p>a fine page</p>'));
    await sut.start();
  });
  afterAll(async () => {
    await sut.stop();
    await origin.stop();
  });

  it.each(['/nested', '/unclosed'])(
    '%s: 422 unconvertible_content within the budget, while other requests are answered at once',
    async (path) => {
      const started = performance.now();
      const slow = fetch(`${sut.base}/${origin.base}${path}`, { headers: { accept: 'text/markdown' } });
      await new Promise((r) => setTimeout(r, 200)); // the conversion is under way
      const health = performance.now();
      expect((await fetch(`${sut.base}/health`)).status).toBe(200);
      expect(performance.now() - health).toBeLessThan(300);
      const res = await slow;
      expect(res.status).toBe(422);
      expect(await res.json()).toMatchObject({ success: false, error_type: 'unconvertible_content' });
      expect(performance.now() - started).toBeLessThan(5_000);
      // The page itself is still there, as HTML and as JSON.
      expect((await fetch(`${sut.base}/${origin.base}${path}`, { headers: { accept: 'text/html' } })).status).toBe(200);
      expect((await fetch(`${sut.base}/${origin.base}${path}`, { headers: { accept: 'application/json' } })).status).toBe(200);
      // The stopped worker was replaced.
      const fine = await fetch(`${sut.base}/${origin.base}/fine`);
      expect(await fine.text()).toContain('a fine page');
    },
  );

  it('names a page it could not convert among the formats that worked', async () => {
    const res = await fetch(`${sut.base}/${origin.base}/nested`, { headers: { accept: 'text/plain, text/html' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { 'text/html': string; errors: Record<string, string> };
    expect(body['text/html']).toContain('bottom');
    expect(body.errors['text/plain']).toMatch(/more than 1 s to convert/);
  });

  it('a full conversion queue is 503 queue_full; a client that leaves the queue frees its place', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const nested = `${sut.base}/${origin.base}/nested`;
    const running = fetch(nested); // holds the one worker for a second
    await sleep(200);
    const leaving = new AbortController();
    const queued = fetch(nested, { signal: leaving.signal }).catch(() => 'aborted');
    await sleep(200);
    const refused = await fetch(nested);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect(await refused.json()).toMatchObject({ success: false, error_type: 'queue_full' });
    leaving.abort();
    expect(await queued).toBe('aborted');
    await sleep(200);
    // The place the leaving client held is free: this page waits in it instead of being refused.
    const next = fetch(`${sut.base}/${origin.base}/fine`, { headers: { accept: 'text/markdown' } });
    expect((await running).status).toBe(422);
    const res = await next;
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('a fine page');
  });
});

describe('a page whose conversion needs more than CONVERT_HEAP_MB', () => {
  const origin = new Origin();
  const sut = new SystemUnderTest({ DOWNLOADER_ALLOW_PRIVATE: '1', CONVERT_HEAP_MB: '32' }, { POLL_INTERVAL_S: '0.3' });
  beforeAll(async () => {
    await origin.start();
    // 3 MB of short paragraphs: some 200 MB of DOM.
    origin
      .static('/wide', 'text/html', `<html><body>${'<p>para <b>bold</b> text</p>'.repeat(110_000)}</body></html>`)
      .static('/fine', 'text/html', '<html><body><p>a fine page</p></body></html>');
    await sut.start();
  });
  afterAll(async () => {
    await sut.stop();
    await origin.stop();
  });

  it('is 422 unconvertible_content, the downloader unharmed and the next page converted', async () => {
    const res = await fetch(`${sut.base}/${origin.base}/wide`);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: string };
    expect(body).toMatchObject({ success: false, error_type: 'unconvertible_content' });
    expect(body.error).toMatch(/memory/);
    expect(await (await fetch(`${sut.base}/${origin.base}/fine`)).text()).toContain('a fine page');
    expect((await fetch(`${sut.base}/health`)).status).toBe(200);
  });
});
