import { bearerToken, createTokenCheck } from '@dl/shared';
import { type Context, Hono } from 'hono';
import { compress } from 'hono/compress';
import type { Exporter } from '../exporter.ts';
import { CONTENT_TYPES, negotiateFormat } from '../exposition/exposition.ts';
import type { ExpositionFormat } from '../exposition/families.ts';
import { type Asset, loadDashboardAssets } from './dashboard/assets.ts';
import { shared } from './shared.ts';

export interface ExporterAppOptions {
  /** METRICS_TOKEN: when set, every route but the probes and the dashboard's static files needs it. */
  token?: string;
  /** SCRAPE_REUSE_MS: how long a rendered view answers further requests (0: only while it renders). */
  reuseMs?: number;
  now?: () => number;
}

const error = (c: Context, status: 400 | 401 | 404, errorType: string, message: string) =>
  c.json({ success: false, error: message, error_type: errorType }, status);

/** The exporter's HTTP surface over its narrow face: render, views, ready. */
export function createExporterApp(
  exporter: Pick<Exporter, 'render' | 'views' | 'ready'>,
  options: ExporterAppOptions = {},
): Hono {
  const app = new Hono();
  const { views } = exporter;
  const reuse = options.reuseMs ?? 0;
  const now = options.now ?? Date.now;
  const render = shared((format: ExpositionFormat) => exporter.render(format), reuse, now);
  const view = shared((name: 'performance' | 'health' | 'live') => views[name](), reuse, now);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => (exporter.ready() ? c.json({ status: 'ready' }) : c.json({ status: 'not_ready' }, 503)));

  // The page and its static files carry no data; the data endpoints it calls need the token,
  // which the page reads from its URL fragment (#token=...), never sent to the server or logs.
  const assets = loadDashboardAssets();
  const serve = (name: string) => (c: Context) => {
    const a = assets.get(name) as Asset;
    return c.body(a.body, 200, { 'content-type': a.type, 'cache-control': 'no-cache' });
  };
  app.get('/dashboard', serve('dashboard.html'));
  for (const name of ['dashboard.js', 'dashboard.css', 'uplot.js', 'uplot.css']) app.get(`/dashboard/${name}`, serve(name));

  if (options.token !== undefined) {
    const matches = createTokenCheck(options.token);
    app.use('*', async (c, next) => {
      if (!matches(bearerToken(c.req.header('authorization'))))
        return error(c, 401, 'unauthorized', 'missing or wrong bearer token');
      await next();
    });
  }

  app.use('/metrics', compress());
  app.get('/metrics', async (c) => {
    const format = negotiateFormat(c.req.header('accept'));
    const body = await render(format);
    const headers = { 'content-type': CONTENT_TYPES[format] };
    return typeof body === 'string' ? c.body(body, 200, headers) : c.body(new Uint8Array(body), 200, headers);
  });

  app.get('/metrics/performance', async (c) => c.json(await view('performance')));
  app.get('/metrics/health-score', async (c) => c.json(await view('health')));
  app.get('/metrics/live', async (c) => c.json(await view('live')));
  app.get('/metrics/live/history', (c) => {
    const since = Number(c.req.query('since') ?? 0);
    if (!Number.isFinite(since) || since < 0) return error(c, 400, 'bad_request', 'since must be epoch milliseconds >= 0');
    return c.json(views.history(since));
  });

  app.notFound((c) => error(c, 404, 'not_found', `no route for ${c.req.path}`));
  return app;
}
