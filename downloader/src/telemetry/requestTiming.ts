import { ENDPOINT_PATTERN, type ErrorType, HTTP_METHODS } from '@dl/shared';
import type { Span } from '@opentelemetry/api';

/** Where a matched route leaves its template on the request object, for the timing wrapper to read. */
export const ROUTE_TEMPLATE = Symbol('routeTemplate');
/** Where the error funnel leaves the answer's error type, so the event says whose failure it was. */
export const ERROR_TYPE = Symbol('errorType');
/** Where the request context leaves the request's id (accepted X-Request-Id, or generated). */
export const REQUEST_ID = Symbol('requestId');
/** The trace id of a sampled incoming `traceparent` (or of this request's own span), when there is one. */
export const TRACE_ID = Symbol('traceId');
/** The request's server span, when tracing is on. */
export const SPAN = Symbol('span');
export type Tagged = Request & {
  [ROUTE_TEMPLATE]?: string;
  [ERROR_TYPE]?: ErrorType;
  [REQUEST_ID]?: string;
  [TRACE_ID]?: string;
  [SPAN]?: Span;
};

/** The request's server span (tracing on), for handlers that start child spans. */
export function spanOf(request: Request): Span | undefined {
  return (request as Tagged)[SPAN];
}

/** The request's id, for handlers that carry it on (jobs, webhooks). */
export function requestIdOf(request: Request): string | undefined {
  return (request as Tagged)[REQUEST_ID];
}

/** Converts a Hono path (`/jobs/:job_id/status`, `/:url{.+}`) to a route template (`/jobs/{job_id}/status`). */
export function toTemplate(honoPath: string): string {
  const template = honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');
  if (!ENDPOINT_PATTERN.test(template)) throw new Error(`route ${honoPath} gives an invalid endpoint label ${template}`);
  return template;
}

/** Called by each route's handler before its own work, so errors thrown later keep the template. */
export function tagRoute(request: Request, template: string): void {
  (request as Tagged)[ROUTE_TEMPLATE] = template;
}

/** Called by the error funnel as it answers with an error. */
export function tagErrorType(request: Request, errorType: ErrorType): void {
  (request as Tagged)[ERROR_TYPE] = errorType;
}

const knownMethods = new Set<string>(HTTP_METHODS);

/** Receives one finished request; the wrapper hands over primitives only, no objects. */
export type RequestRecorder = (
  endpoint: string,
  method: string,
  status: number,
  durationS: number,
  errorType: ErrorType | undefined,
  requestId: string | undefined,
  traceId: string | undefined,
) => void;

type Fetch<E> = (request: Request, env: E) => Response | Promise<Response>;

/**
 * Wraps an app's `fetch` to time every request without a middleware, so Hono and the Node adapter
 * keep their synchronous fast path. A thrown or rejected handler counts as a 500 and is rethrown.
 * Timing ends when the Response object exists (headers decided), not when the body is flushed.
 */
export function withRequestTiming<E>(fetch: Fetch<E>, record: RequestRecorder): Fetch<E> {
  const done = (request: Request, status: number, start: number, thrown = false) => {
    const method = knownMethods.has(request.method) ? request.method : 'other';
    const tagged = request as Tagged;
    const errorType = thrown ? 'internal' : status >= 400 ? tagged[ERROR_TYPE] : undefined;
    const durationS = (performance.now() - start) / 1000;
    record(tagged[ROUTE_TEMPLATE] ?? 'other', method, status, durationS, errorType, tagged[REQUEST_ID], tagged[TRACE_ID]);
  };
  return (request, env) => {
    const start = performance.now();
    let result: Response | Promise<Response>;
    try {
      result = fetch(request, env);
    } catch (err) {
      done(request, 500, start, true);
      throw err;
    }
    if (result instanceof Promise) {
      return result.then(
        (response) => {
          done(request, response.status, start);
          return response;
        },
        (err: unknown) => {
          done(request, 500, start, true);
          throw err;
        },
      );
    }
    done(request, result.status, start);
    return result;
  };
}
