import type { IncomingMessage } from 'node:http';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { ApiError, errorResponse, toApiError } from './apiError.ts';
import { createKeyCheck } from './auth.ts';
import type { CacheLayer } from './cache/cache.ts';
import type { Converter } from './content/render.ts';
import { createErrorLog } from './errorLog.ts';
import type { PdfRenderer } from './pdf/pdfRenderer.ts';
import { clientKey, type LimitClass, type RateLimits } from './rateLimit.ts';
import { downloadHandler } from './routes/download.ts';
import { type JobRouteDeps, jobRoutes } from './routes/jobs.ts';
import { tagRoute, toTemplate } from './telemetry/requestTiming.ts';
import type { Tracing } from './telemetry/tracing.ts';
import type { UpstreamClient } from './upstream/client.ts';

export interface AppDeps {
  version: string;
  startedAt: number;
  now?: () => number;
  /** Without it (unit tests of the bare app) GET /{url} is not registered. */
  upstream?: UpstreamClient;
  /** Without them the job routes answer 404 for every id. */
  jobs?: JobRouteDeps;
  /** DOWNLOADER_KEY: when set, every route but /health needs it. */
  apiKey?: string;
  cache?: CacheLayer;
  pdf?: PdfRenderer;
  /** HTML to text or Markdown: main.ts gives its ConvertPool; absent, pages convert on the calling thread. */
  convert?: Converter;
  /** RATELIMIT_*: per-class request budgets; without it nothing is limited. */
  limits?: RateLimits;
  /** OTLP tracing (OTEL_EXPORTER_OTLP_ENDPOINT): child spans of the download route. */
  tracing?: Tracing;
  /** Where unexpected errors go; by default once per kind per minute on stderr. */
  logError?: (err: unknown) => void;
}

type Method = 'GET' | 'POST' | 'DELETE';
type Handler = (c: Context) => Response | Promise<Response>;

/**
 * Registers a route whose handler first leaves its template on the request for its timed response.
 * No middleware: Hono keeps its synchronous single-handler fast path.
 */
export function addRoute(app: Hono, method: Method, path: string, handler: Handler, before?: MiddlewareHandler): void {
  const template = toTemplate(path);
  if (!before) {
    app.on(method, path, (c) => {
      tagRoute(c.req.raw, template);
      return handler(c);
    });
    return;
  }
  // A route that needs a middleware (the batch body limit) tags itself first, so the middleware's own
  // answers keep the template too.
  app.on(
    method,
    path,
    async (c, next) => {
      tagRoute(c.req.raw, template);
      await next();
    },
    before,
    handler,
  );
}

const KEY_OK = Symbol('keyOk');

/** The peer's address as @hono/node-server hands it over (absent in `app.request` unit tests). */
function remoteAddress(c: Context): string | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress;
}

export function createApp(deps: AppDeps): Hono {
  const now = deps.now ?? Date.now;
  const app = new Hono();
  // Auth is part of each protected handler, not a middleware, so Hono keeps its fast path.
  const keyOk = deps.apiKey ? createKeyCheck(deps.apiKey) : undefined;
  // Asked by the rate limit (whose budget) and the key check (may it pass): compared once per request.
  const hasKey = (c: Context): boolean => {
    const r = c.req.raw as Request & { [KEY_OK]?: boolean };
    r[KEY_OK] ??= keyOk?.(c.req.header('authorization'), c.req.header('x-api-key')) ?? false;
    return r[KEY_OK];
  };
  const guarded = (handler: Handler): Handler =>
    keyOk
      ? (c) =>
          hasKey(c)
            ? handler(c)
            : errorResponse(
                c,
                new ApiError('unauthorized', 'missing or wrong API key: send Authorization: Bearer <key> or X-API-Key'),
              )
      : handler;
  // The limit comes before the key check, so guessing keys costs budget too. A caller with the right
  // key draws on the key's budget, anyone else on their address's.
  const limits = deps.limits;
  const limited = (cls: LimitClass, handler: Handler): Handler =>
    limits
      ? async (c) => {
          const keyed = hasKey(c) ? deps.apiKey : undefined;
          const verdict = await limits.take(cls, clientKey(remoteAddress(c), keyed));
          if (!verdict) return handler(c);
          for (const [name, value] of Object.entries(verdict.headers)) c.header(name, value);
          if (verdict.allowed) return handler(c);
          return errorResponse(
            c,
            new ApiError(
              'rate_limit_exceeded',
              `Rate limit exceeded: ${verdict.rate.text} for ${cls} requests. Try again in ${verdict.retryAfterS} s.`,
            ),
          );
        }
      : handler;
  addRoute(
    app,
    'GET',
    '/health',
    limited('status', (c) => c.json({ status: 'ok', version: deps.version, uptime_seconds: (now() - deps.startedAt) / 1000 })),
  );
  if (deps.jobs) {
    const jobs = jobRoutes(deps.jobs);
    addRoute(app, 'POST', '/batch', limited('batch', guarded(jobs.submit)), jobs.bodyLimit);
    addRoute(app, 'GET', '/jobs/:job_id/status', limited('default', guarded(jobs.status)));
    addRoute(app, 'GET', '/jobs/:job_id/results', limited('default', guarded(jobs.results)));
    addRoute(app, 'DELETE', '/jobs/:job_id', limited('default', guarded(jobs.cancel)));
  } else {
    const noJob = (c: Context) => errorResponse(c, new ApiError('not_found', `job ${c.req.param('job_id')} not found`));
    addRoute(app, 'GET', '/jobs/:job_id/status', limited('default', guarded(noJob)));
    addRoute(app, 'GET', '/jobs/:job_id/results', limited('default', guarded(noJob)));
    addRoute(app, 'DELETE', '/jobs/:job_id', limited('default', guarded(noJob)));
  }
  // Only paths that start like a URL (http: or https:, perhaps percent-encoded), so /health and the
  // job routes keep Hono's single-handler fast path and unknown paths stay 404s.
  if (deps.upstream)
    addRoute(
      app,
      'GET',
      '/:url{[hH][tT][tT][pP][sS]?(?::|%3[aA]).*}',
      limited(
        'download',
        guarded(
          downloadHandler({
            upstream: deps.upstream,
            cache: deps.cache,
            pdf: deps.pdf,
            convert: deps.convert,
            tracing: deps.tracing,
          }),
        ),
      ),
    );
  app.notFound((c) => {
    // `/file:...`, `/gopher%3A...`: a URL of a scheme the downloader never fetches, not an unknown route.
    const scheme = /^\/([a-z][a-z0-9+.-]*)(?::|%3a)/i.exec(c.req.path)?.[1];
    if (scheme && c.req.method === 'GET') {
      return errorResponse(c, new ApiError('invalid_url', `scheme ${scheme.toLowerCase()}: is not allowed; use http or https`));
    }
    return errorResponse(c, new ApiError('not_found', `no route for ${c.req.method} ${c.req.path}`));
  });
  // The one error funnel: every failure a handler throws is answered here, with the shared table's status.
  const logError = deps.logError ?? createErrorLog();
  app.onError((err, c) => {
    const e = toApiError(err);
    if (e.type === 'internal') logError(err);
    return errorResponse(c, e);
  });
  return app;
}
