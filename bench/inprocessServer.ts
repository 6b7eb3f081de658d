// The comparison the overhead benchmark needs: the same downloader app with metrics recorded
// in-process by a prom-client middleware (histogram + counter, same labels), as most services do.
import { serve } from '@hono/node-server';
import client from 'prom-client';
import { createApp } from '../downloader/src/app.ts';
import { withRequestContext } from '../downloader/src/telemetry/accessLog.ts';

const registry = new client.Registry();
const labelNames = ['endpoint', 'method', 'status'] as const;
const requests = new client.Counter({ name: 'downloader_requests_total', help: 'requests', labelNames, registers: [registry] });
const duration = new client.Histogram({
  name: 'downloader_response_time_seconds',
  help: 'latency',
  labelNames: ['endpoint', 'method'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60],
  registers: [registry],
});
const base = createApp({ version: 'bench', startedAt: Date.now() });
const { Hono } = await import('hono');
const app = new Hono();
app.use('*', async (c, next) => {
  const start = performance.now();
  try {
    await next();
  } finally {
    const endpoint = c.req.routePath;
    requests.inc({ endpoint, method: c.req.method, status: String(c.res.status) });
    duration.observe({ endpoint, method: c.req.method }, (performance.now() - start) / 1000);
  }
});
app.route('/', base);
// As the downloader's main.ts wraps its app (request ids, trace context; access lines off as in every variant).
serve({ fetch: withRequestContext(app.fetch), port: Number(process.env.PORT), hostname: '127.0.0.1' }, () =>
  console.log('ready'),
);
