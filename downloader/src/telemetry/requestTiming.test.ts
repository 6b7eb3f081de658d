import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ApiError, errorResponse } from '../apiError.ts';
import { addRoute } from '../app.ts';
import { withRequestContext } from './accessLog.ts';
import { toTemplate, withRequestTiming } from './requestTiming.ts';

function timedApp() {
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
  const recorded: [string, string, number, number, string | undefined, string | undefined, string | undefined, number][] = [];
  const fetch = withRequestTiming(app.fetch, (...args) => recorded.push(args));
  return { fetch, recorded };
}

describe('withRequestTiming', () => {
  it.each([
    ['GET', '/ok', '/ok', 'GET', 200, undefined],
    ['HEAD', '/ok', '/ok', 'HEAD', 200, undefined],
    ['GET', '/slow/42', '/slow/{id}', 'GET', 200, undefined],
    ['POST', '/boom', '/boom', 'POST', 500, 'internal'],
    ['GET', '/nowhere?secret=1', 'other', 'GET', 404, 'not_found'],
    ['PROPFIND', '/ok', 'other', 'other', 404, 'not_found'],
  ])('%s %s is recorded as %s %s %i %s', async (method, path, endpoint, label, status, errorType) => {
    const { fetch, recorded } = timedApp();
    const res = await fetch(new Request(`http://x${path}`, { method }), undefined);
    expect(res.status).toBe(status);
    expect(recorded).toHaveLength(1);
    const [e, m, s, d, t] = recorded[0] ?? [];
    expect([e, m, s, t]).toEqual([endpoint, label, status, errorType]);
    expect(d).toBeGreaterThanOrEqual(0);
    if (path.startsWith('/slow')) expect(d).toBeGreaterThanOrEqual(0.015);
  });

  it('counts a rejected fetch as a 500 and rethrows', async () => {
    const recorded: unknown[][] = [];
    const fetch = withRequestTiming(
      () => Promise.reject(new Error('adapter broke')),
      (...a) => recorded.push(a),
    );
    await expect(fetch(new Request('http://x/'), undefined)).rejects.toThrow('adapter broke');
    expect(recorded[0]?.slice(2, 3)).toEqual([500]);
    expect(recorded[0]?.[4]).toBe('internal');
  });
});

describe('withRequestTiming inside withRequestContext', () => {
  it("hands on a caller's request id and a sampled trace id; a generated id stays in the answer", async () => {
    const { fetch: timed, recorded } = timedApp();
    const fetch = withRequestContext(timed);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const calls = [
      new Request('http://x/ok', { headers: { 'x-request-id': 'caller-7' } }),
      new Request('http://x/ok', { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } }),
      new Request('http://x/nowhere', { headers: { 'x-request-id': 'bad id' } }),
    ];
    const answers = [];
    for (const request of calls) answers.push(await fetch(request, undefined));
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
