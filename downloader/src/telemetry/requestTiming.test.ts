import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, errorResponse } from '../apiError.ts';
import { addRoute } from '../app.ts';
import { withRequestContext } from './accessLog.ts';
import { type RequestRecorder, timedResponses, toTemplate } from './requestTiming.ts';

type Recorded = Parameters<RequestRecorder>;
type Fetch = (request: Request, env: unknown) => Response | Promise<Response>;

function timedApp(): Hono {
  const app = new Hono();
  addRoute(app, 'GET', '/ok', (c) => c.text('ok'));
  addRoute(app, 'GET', '/slow/:id', async (c) => {
    await new Promise((r) => setTimeout(r, 20));
    return c.text(c.req.param('id') ?? '');
  });
  addRoute(app, 'POST', '/boom', () => {
    throw new Error('handler failed');
  });
  app.onError((e, c) => errorResponse(c, e));
  app.notFound((c) => errorResponse(c, new ApiError('not_found', 'no route')));
  return app;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A real server on a free loopback port whose responses are timed, as main.ts composes it. */
async function timedServer(fetch: Fetch): Promise<{ url: string; recorded: Recorded[] }> {
  const recorded: Recorded[] = [];
  const options = { ServerResponse: timedResponses((...a) => recorded.push(a)) };
  let server: ReturnType<typeof serve> | undefined;
  const { port } = await new Promise<AddressInfo>((resolve) => {
    server = serve({ fetch, port: 0, hostname: '127.0.0.1', serverOptions: options }, resolve);
  });
  closers.push(
    () =>
      new Promise<void>((done) => {
        server?.close(() => done());
        (server as Server | undefined)?.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${port}`, recorded };
}

describe('timed responses', () => {
  it.each([
    ['GET', '/ok', '/ok', 'GET', 200, undefined],
    ['HEAD', '/ok', '/ok', 'HEAD', 200, undefined],
    ['GET', '/slow/42', '/slow/{id}', 'GET', 200, undefined],
    ['POST', '/boom', '/boom', 'POST', 500, 'internal'],
    ['GET', '/nowhere?secret=1', 'other', 'GET', 404, 'not_found'],
    ['PROPFIND', '/ok', 'other', 'other', 404, 'not_found'],
  ])('%s %s is recorded as %s %s %i %s', async (method, path, endpoint, label, status, errorType) => {
    const { url, recorded } = await timedServer(withRequestContext(timedApp().fetch));
    const res = await fetch(`${url}${path}`, { method });
    await res.arrayBuffer();
    expect(res.status).toBe(status);
    expect(recorded).toHaveLength(1);
    const [e, m, s, d, t, id, trace, end] = recorded[0] ?? [];
    expect([e, m, s, t, id, trace]).toEqual([endpoint, label, status, errorType, undefined, undefined]);
    expect(d).toBeGreaterThanOrEqual(0);
    expect(d).toBeLessThan(5);
    if (path.startsWith('/slow')) expect(d).toBeGreaterThanOrEqual(0.015);
    // The recorder's clock: `performance.now()` when the headers were written, not long ago.
    expect(performance.now() - (end ?? 0)).toBeLessThan(5_000);
  });

  it('counts every request once: 200 concurrent requests, 200 events', async () => {
    const { url, recorded } = await timedServer(withRequestContext(timedApp().fetch));
    const paths = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? '/ok' : i % 3 === 1 ? '/slow/1' : '/nowhere'));
    const answers = await Promise.all(paths.map(async (p) => (await fetch(`${url}${p}`)).status));
    expect(answers.filter((s) => s === 200)).toHaveLength(134);
    expect(recorded).toHaveLength(200);
    expect(recorded.filter((r) => r[0] === '/slow/{id}')).toHaveLength(67);
    expect(recorded.filter((r) => r[2] === 404 && r[0] === 'other')).toHaveLength(66);
  });

  it('records an answer the adapter makes itself: a fetch that rejects or throws past Hono is a 500', async () => {
    for (const broken of [
      () => Promise.reject(new Error('adapter broke')),
      () => {
        throw new Error('adapter broke');
      },
    ] as Fetch[]) {
      const { url, recorded } = await timedServer(withRequestContext(broken));
      expect((await fetch(`${url}/anything`)).status).toBe(500);
      expect(recorded.map((r) => r.slice(0, 3))).toEqual([['other', 'GET', 500]]);
      expect(recorded[0]?.[4]).toBe('internal');
    }
  });

  it('records a request whose client left before the answer, once the answer is decided', async () => {
    const { url, recorded } = await timedServer(withRequestContext(timedApp().fetch));
    const aborted = new AbortController();
    const pending = fetch(`${url}/slow/7`, { signal: aborted.signal }).catch((e: Error) => e.name);
    setTimeout(() => aborted.abort(), 5);
    expect(await pending).toBe('AbortError');
    expect(recorded).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(recorded.map((r) => r.slice(0, 3))).toEqual([['/slow/{id}', 'GET', 200]]);
  });

  it("hands on a caller's request id and a sampled trace id; a generated id stays in the answer", async () => {
    const { url, recorded } = await timedServer(withRequestContext(timedApp().fetch));
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const calls: [string, Record<string, string>][] = [
      ['/ok', { 'x-request-id': 'caller-7' }],
      ['/ok', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }],
      ['/nowhere', { 'x-request-id': 'bad id' }],
    ];
    const answers = [];
    for (const [path, headers] of calls) answers.push(await fetch(`${url}${path}`, { headers }));
    expect(answers.map((r) => r.headers.get('x-request-id'))).toEqual([
      'caller-7',
      expect.stringMatching(/^[0-9a-f-]{36}$/),
      expect.stringMatching(/^[0-9a-f-]{36}$/),
    ]);
    expect(
      recorded.map(([endpoint, , status, , errorType, requestId, trace]) => [endpoint, status, errorType, requestId, trace]),
    ).toEqual([
      ['/ok', 200, undefined, 'caller-7', undefined],
      ['/ok', 200, undefined, undefined, traceId],
      ['other', 404, 'not_found', undefined, undefined],
    ]);
  });

  it('without the request-context wrapper, a request is still counted, as endpoint other', async () => {
    const { url, recorded } = await timedServer(timedApp().fetch);
    expect((await fetch(`${url}/ok`)).status).toBe(200);
    expect(recorded.map((r) => r.slice(0, 3))).toEqual([['other', 'GET', 200]]);
  });
});

describe('route templates', () => {
  it.each([
    ['/health', '/health'],
    ['/jobs/:job_id/status', '/jobs/{job_id}/status'],
    ['/:url{.+}', '/{url}'],
  ])('%s -> %s', (path, template) => expect(toTemplate(path)).toBe(template));

  it('refuses a route whose template could not be a label', () => {
    expect(() => toTemplate('/a b')).toThrow(/invalid endpoint label/);
  });
});
