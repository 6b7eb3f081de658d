import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
// The global `performance` is a lazy getter on globalThis: every read calls it. The module's binding does not.
import { performance } from 'node:perf_hooks';
import { type Logger, REQUEST_ID_PATTERN, TRACE_ID_PATTERN } from '@dl/shared';
import { SpanStatusCode } from '@opentelemetry/api';
import { attachContext, RequestContext, TimedResponse } from './requestTiming.ts';
import { sampledTraceIdOf, type Tracing } from './tracing.ts';

/** What @hono/node-server passes as `env` over HTTP/1.1; absent in `app.request` unit tests. */
interface NodeEnv {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

type Fetch<E> = (request: Request, env: E) => Response | Promise<Response>;

/** The caller's `X-Request-Id` when it is well formed (REQUEST_ID_PATTERN), else undefined. */
export function acceptRequestId(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && REQUEST_ID_PATTERN.test(header) ? header : undefined;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_PARENT = '0'.repeat(16);

/**
 * The trace id of a W3C `traceparent` (version 00) whose sampled flag is set; undefined for one that
 * is absent, malformed, all-zero or not sampled. Nothing is generated: without a caller's trace there
 * is none.
 */
export function sampledTraceId(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, traceId, parentId, flags] = m as unknown as [string, string, string, string];
  // The trace id as the event contract validates it (not all zero); a parent id of zeros is invalid too.
  if (!TRACE_ID_PATTERN.test(traceId) || parentId === ZERO_PARENT) return undefined;
  return (Number.parseInt(flags, 16) & 1) === 1 ? traceId : undefined;
}

/**
 * The outermost wrapper of the public app: gives every request its id (echoed as `X-Request-Id`, left
 * on the request for its timed response, jobs and webhooks) and writes one access line when the
 * response is done: method, route template, status, duration, bytes sent, request id, error type. Never
 * the URL: a target's query string may hold a token, and the route template says what was asked.
 * Reads Node's own request and response objects, so Hono's lazy Request is never materialised.
 */
export function withRequestContext<E>(fetch: Fetch<E>, log?: Logger, tracing?: Tracing): Fetch<E> {
  const access = log?.isLevelEnabled('info') ? log : undefined;
  return (request, env) => {
    // HTTP/1.1 bindings of @hono/node-server (this server never speaks HTTP/2).
    const incoming = (env as NodeEnv | undefined)?.incoming;
    const outgoing = (env as NodeEnv | undefined)?.outgoing;
    const callerId = acceptRequestId(
      incoming ? incoming.headers['x-request-id'] : (request.headers.get('x-request-id') ?? undefined),
    );
    const id = callerId ?? randomUUID();
    const traceparent = incoming ? incoming.headers.traceparent : (request.headers.get('traceparent') ?? undefined);
    // With tracing on, the request's own span decides (a caller's sampled trace, or a new one the
    // sampler kept); without, only a caller's sampled traceparent gives a trace id.
    const span = tracing?.startServer(
      incoming?.method ?? request.method,
      typeof traceparent === 'string' ? traceparent : undefined,
    );
    const traceId = span ? sampledTraceIdOf(span) : sampledTraceId(traceparent);
    const context = new RequestContext(id, callerId !== undefined, traceId, span);
    attachContext(request, context);
    if (outgoing instanceof TimedResponse) outgoing.context = context;
    if (!outgoing) {
      // Unit tests through app.request: no Node response to put the header on.
      const result = fetch(request, env);
      const echo = (r: Response) => {
        r.headers.set('x-request-id', id);
        return r;
      };
      return result instanceof Promise ? result.then(echo) : echo(result);
    }
    outgoing.setHeader('x-request-id', id);
    if (access || span) {
      const start = performance.now();
      // Bytes as nginx's $bytes_sent counts them, headers included: what this socket wrote for this
      // response (the adapter decides Content-Length without telling the response object).
      const socket = incoming?.socket;
      const before = socket?.bytesWritten ?? 0;
      outgoing.once('close', () => {
        if (span) {
          const route = context.route ?? 'other';
          span.updateName(`${incoming?.method ?? request.method} ${route}`);
          span.setAttributes({ 'http.route': route, 'http.response.status_code': outgoing.statusCode });
          if (context.errorType) span.setAttribute('error.type', context.errorType);
          if (outgoing.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        }
        access?.info(
          {
            request_id: id,
            ...(traceId ? { trace_id: traceId } : {}),
            method: incoming?.method ?? request.method,
            route: context.route ?? 'other',
            status: outgoing.statusCode,
            duration_ms: Math.round((performance.now() - start) * 1000) / 1000,
            ...(socket ? { bytes_sent: socket.bytesWritten - before } : {}),
            ...(context.errorType ? { error_type: context.errorType } : {}),
            // The client left before the whole answer was written.
            ...(outgoing.writableFinished ? {} : { aborted: true }),
          },
          'request',
        );
      });
    }
    return fetch(request, env);
  };
}
