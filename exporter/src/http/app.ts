import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { bearerToken, createTokenCheck } from '@dl/shared/tokenCheck';
import { type Context, Hono } from 'hono';
import type { ExpositionFormat } from '../exposition/families.ts';
import { CONTENT_TYPES, negotiateFormat } from '../exposition/formats.ts';
import { type Asset, loadDashboardAssets } from './dashboard/assets.ts';
import type { ExporterFace, ViewName } from './face.ts';
import { shared } from './shared.ts';
import { turnTaking } from './turns.ts';

const gzipAsync = promisify(gzip);

export interface ExporterAppOptions {
  /** Where a failed answer's reason goes (the process's logger). */
  logError?: (message: string) => void;
  /** METRICS_TOKEN: when set, every route but the probes and the dashboard's static files needs it. */
  token?: string;
  /** SCRAPE_REUSE_MS: how long a rendered view answers further requests (0: only while it renders). */
  reuseMs?: number;
  now?: () => number;
}

type Coding = 'gzip' | 'identity';
const codingOf = (c: Context): Coding => (acceptsGzip(c.req.header('accept-encoding')) ? 'gzip' : 'identity');

/**
 * How many requests go on per turn of the event loop (turns.ts). 200 scrapers and events flowing
 * (exporter/load/hostileClients.test.ts), one run each: 4 and 8 answered 43,000-47,000 scrapes in
 * 20 s with the longest stall of ingest 8-16 ms; 16 and 64, 30,000-35,000 with 17-29 ms. With no
 * turns at all, 27,000 and 103 ms (and before the JSON views were gzipped, 17,000 and 76 ms:
 * writing their bodies was 43 % of the thread's time).
 */
const REQUESTS_PER_TURN = 4;

const error = (c: Context, status: 400 | 401 | 404, errorType: string, message: string) =>
  c.json({ success: false, error: message, error_type: errorType }, status);

/** The exporter's HTTP surface over its narrow face: render, views, history, ready. */
export function createExporterApp(face: ExporterFace, options: ExporterAppOptions = {}): Hono {
  const app = new Hono();
  const reuse = options.reuseMs ?? 0;
  const now = options.now ?? Date.now;
  // Everything a storm of scrapers asks for is made once per reuse window and sent as it is: the
  // rendering or the JSON view, as bytes, and their gzip (off the event loop, on libuv's pool).
  const render = shared((format: ExpositionFormat) => face.render(format), reuse, now);
  const view = shared((name: ViewName) => face.view(name), reuse, now);
  const body = shared(
    async (key: `${'metrics' | 'view'} ${ExpositionFormat | ViewName} ${Coding}`) => {
      const [kind, name, coding] = key.split(' ') as ['metrics' | 'view', string, Coding];
      const made = kind === 'metrics' ? await render(name as ExpositionFormat) : await view(name as ViewName);
      const bytes = typeof made === 'string' ? Buffer.from(made) : made;
      return new Uint8Array(coding === 'gzip' ? await gzipAsync(bytes, { level: 1 }) : bytes);
    },
    reuse,
    now,
  );
  const send = (c: Context, bytes: Uint8Array<ArrayBuffer>, coding: Coding, contentType: string, vary: string) => {
    const headers: Record<string, string> = { 'content-type': contentType, vary };
    if (coding === 'gzip') headers['content-encoding'] = 'gzip';
    return c.body(bytes, 200, headers);
  };
  const sendView = async (c: Context, name: ViewName) => {
    const coding = codingOf(c);
    return send(c, await body(`view ${name} ${coding}`), coding, 'application/json', 'Accept-Encoding');
  };
  const sendJson = (c: Context, text: string) => c.body(text, 200, { 'content-type': 'application/json' });

  // Requests take their turns with ingest (turns.ts): a storm answers a few per turn of the loop.
  const turn = turnTaking(REQUESTS_PER_TURN);
  app.use('*', async (_c, next) => {
    await turn();
    await next();
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => ((await face.ready()) ? c.json({ status: 'ready' }) : c.json({ status: 'not_ready' }, 503)));

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

  app.get('/metrics', async (c) => {
    const format = negotiateFormat(c.req.header('accept'));
    const coding = codingOf(c);
    return send(c, await body(`metrics ${format} ${coding}`), coding, CONTENT_TYPES[format], 'Accept, Accept-Encoding');
  });

  app.get('/metrics/performance', (c) => sendView(c, 'performance'));
  app.get('/metrics/health-score', (c) => sendView(c, 'health'));
  app.get('/metrics/live', (c) => sendView(c, 'live'));
  app.get('/metrics/live/history', async (c) => {
    const since = Number(c.req.query('since') ?? 0);
    if (!Number.isFinite(since) || since < 0) return error(c, 400, 'bad_request', 'since must be epoch milliseconds >= 0');
    return sendJson(c, await face.history(since));
  });

  app.notFound((c) => error(c, 404, 'not_found', `no route for ${c.req.path}`));
  const logError = options.logError ?? ((m: string) => console.error(m));
  app.onError((err, c) => {
    logError(`${c.req.path}: ${err.message}`);
    return c.json({ success: false, error: 'the exporter could not answer', error_type: 'internal_error' }, 500);
  });
  return app;
}

/** Whether an Accept-Encoding header admits gzip (named, or `*`, with a q above 0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of header.split(',')) {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (coding.trim() === 'gzip') gzip = Number.isFinite(weight) ? weight : 0;
    else if (coding.trim() === '*') any = Number.isFinite(weight) ? weight : 0;
  }
  return (gzip ?? any ?? 0) > 0;
}
