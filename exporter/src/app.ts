import { timingSafeEqual } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { type Asset, loadDashboardAssets } from './dashboard/assets.ts';
import type { Exporter } from './exporter.ts';
import { negotiateFormat, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE } from './exposition.ts';

const WINDOWS = { '1m': 60_000, '5m': 300_000 } as const;

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The exporter's HTTP surface. Probes stay open; everything else needs METRICS_TOKEN when set. */
export function createExporterApp(exporter: Exporter): Hono {
  const app = new Hono();
  const token = exporter.config.METRICS_TOKEN;

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

  if (token) {
    app.use('*', async (c, next) => {
      if (!tokenMatches(c.req.header('authorization'), token)) {
        return c.json({ success: false, error: 'missing or wrong bearer token', error_type: 'unauthorized' }, 401);
      }
      await next();
    });
  }

  app.get('/metrics', async (c) => {
    const format = negotiateFormat(c.req.header('accept'));
    const body = await exporter.render(format);
    return c.body(body, 200, {
      'content-type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
    });
  });

  app.get('/metrics/performance', (c) => {
    const now = exporter.now();
    const uptime = exporter.uptimeSeconds();
    const windows = Object.fromEntries(
      Object.entries(WINDOWS).map(([name, ms]) => [name, exporter.requests.performance(now, uptime, ms)]),
    );
    return c.json({ uptime_seconds: uptime, ...exporter.requests.performance(now, uptime), windows });
  });

  app.get('/metrics/health-score', (c) => c.json(exporter.health()));
  app.get('/metrics/live', (c) => c.json(exporter.live()));
  app.get('/metrics/live/history', (c) => {
    const since = Number(c.req.query('since') ?? 0);
    if (!Number.isFinite(since) || since < 0) {
      return c.json({ success: false, error: 'since must be epoch milliseconds >= 0', error_type: 'bad_request' }, 400);
    }
    return c.json({ interval_seconds: exporter.config.DASHBOARD_SAMPLE_S, points: exporter.history.since(since) });
  });

  app.notFound((c) => c.json({ success: false, error: `no route for ${c.req.path}`, error_type: 'not_found' }, 404));
  return app;
}
