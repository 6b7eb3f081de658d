import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { addRoute } from '../app.ts';
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
  app.onError((_e, c) => c.text('internal', 500));
  const recorded: [string, string, number, number][] = [];
  const fetch = withRequestTiming(app.fetch, (...args) => recorded.push(args));
  return { fetch, recorded };
}

describe('withRequestTiming', () => {
  it.each([
    ['GET', '/ok', '/ok', 'GET', 200],
    ['HEAD', '/ok', '/ok', 'HEAD', 200],
    ['GET', '/slow/42', '/slow/{id}', 'GET', 200],
    ['POST', '/boom', '/boom', 'POST', 500],
    ['GET', '/nowhere?secret=1', 'other', 'GET', 404],
    ['PROPFIND', '/ok', 'other', 'other', 404],
  ])('%s %s is recorded as %s %s %i', async (method, path, endpoint, label, status) => {
    const { fetch, recorded } = timedApp();
    const res = await fetch(new Request(`http://x${path}`, { method }), undefined);
    expect(res.status).toBe(status);
    expect(recorded).toHaveLength(1);
    const [e, m, s, d] = recorded[0] ?? [];
    expect([e, m, s]).toEqual([endpoint, label, status]);
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
    expect(recorded[0]?.[2]).toBe(500);
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
