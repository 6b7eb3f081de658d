// The global `performance` is a lazy getter on globalThis: every read calls it. The module's binding does not.
import { performance } from 'node:perf_hooks';
import { ENDPOINT_PATTERN, type ErrorType, HTTP_METHODS } from '@dl/shared';
import type { Span } from '@opentelemetry/api';

/**
 * What the wrappers and handlers learn about one request, in one object of one shape on one symbol.
 * Several symbols on Node's request objects, some of them absent on most requests, cost an
 * inline-cache miss per read on the hot path (a profile showed them as a third of telemetry's own
 * time); a fixed-shape object's fields are plain loads.
 */
export class RequestContext {
  /** The matched route's template, left by its handler before its own work. */
  route: string | undefined = undefined;
  /** The answer's error type, left by the error funnel. */
  errorType: ErrorType | undefined = undefined;
  constructor(
    /** The accepted `X-Request-Id`, or a generated one. */
    readonly id: string | undefined,
    /** Whether the id is the caller's own: only then does the request's event carry it. */
    readonly callerId: boolean,
    /** The trace id of a sampled incoming `traceparent` (or of this request's own span). */
    readonly traceId: string | undefined,
    /** The request's server span, when tracing is on. */
    readonly span: Span | undefined,
  ) {}
}

const CONTEXT = Symbol('requestContext');
type Tagged = Request & { [CONTEXT]?: RequestContext };

/** Gives the request its context (the outermost wrapper, before anything reads it). */
export function attachContext(request: Request, context: RequestContext): void {
  (request as Tagged)[CONTEXT] = context;
}

/** The request's context; one without id, trace or span when no wrapper attached it (unit tests). */
function contextOf(request: Request): RequestContext {
  const tagged = request as Tagged;
  let context = tagged[CONTEXT];
  if (!context) {
    context = new RequestContext(undefined, false, undefined, undefined);
    tagged[CONTEXT] = context;
  }
  return context;
}

/** The request's server span (tracing on), for handlers that start child spans. */
export function spanOf(request: Request): Span | undefined {
  return (request as Tagged)[CONTEXT]?.span;
}

/** The request's id, for handlers that carry it on (jobs, webhooks). */
export function requestIdOf(request: Request): string | undefined {
  return (request as Tagged)[CONTEXT]?.id;
}

/** Converts a Hono path (`/jobs/:job_id/status`, `/:url{.+}`) to a route template (`/jobs/{job_id}/status`). */
export function toTemplate(honoPath: string): string {
  const template = honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');
  if (!ENDPOINT_PATTERN.test(template)) throw new Error(`route ${honoPath} gives an invalid endpoint label ${template}`);
  return template;
}

/** Called by each route's handler before its own work, so errors thrown later keep the template. */
export function tagRoute(request: Request, template: string): void {
  contextOf(request).route = template;
}

/** Called by the error funnel as it answers with an error. */
export function tagErrorType(request: Request, errorType: ErrorType): void {
  contextOf(request).errorType = errorType;
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
  /** `performance.now()` when the request ended: the recorder's clock, so it needs no read of its own. */
  endMs: number,
) => void;

type Fetch<E> = (request: Request, env: E) => Response | Promise<Response>;

/**
 * Wraps an app's `fetch` to time every request without a middleware, so Hono and the Node adapter
 * keep their synchronous fast path. A thrown or rejected handler counts as a 500 and is rethrown.
 * Timing ends when the Response object exists (headers decided), not when the body is flushed.
 */
export function withRequestTiming<E>(fetch: Fetch<E>, record: RequestRecorder): Fetch<E> {
  const done = (request: Request, status: number, start: number, thrown = false) => {
    const end = performance.now();
    const durationS = (end - start) / 1000;
    const method = knownMethods.has(request.method) ? request.method : 'other';
    const context = (request as Tagged)[CONTEXT];
    const errorType = thrown ? 'internal' : status >= 400 ? context?.errorType : undefined;
    const requestId = context?.callerId ? context.id : undefined;
    record(context?.route ?? 'other', method, status, durationS, errorType, requestId, context?.traceId, end);
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
