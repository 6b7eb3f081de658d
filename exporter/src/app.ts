import { timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
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

  app.notFound((c) => c.json({ success: false, error: `no route for ${c.req.path}`, error_type: 'not_found' }, 404));
  return app;
}
