// The global `performance` is a lazy getter on globalThis: every read calls it. The module's binding does not.
import { type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, ServerResponse } from 'node:http';
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

/**
 * The public server's responses when telemetry is on (`serve`'s `serverOptions.ServerResponse`).
 * Each times its own request: from its creation, which Node does as soon as the request's headers
 * are parsed, to its `writeHead`, which Node calls for every response (an implicit one too) once
 * the status and headers are decided, before any byte of the body. Then it hands the request's
 * event to the recorder, with the route and error type the handlers left on the request's context
 * (`withRequestContext` links the two). An answer the adapter makes itself (a handler that threw
 * past Hono's error funnel: 500) goes through `writeHead` too, and counts.
 *
 * A fetch wrapper did this before, with a clock read before and after `app.fetch` and a `then` on
 * every asynchronous answer. One process switching between the two every 100 ms, both recording
 * through the real emitter (exporter on the other core), read 0.994x of the wrapper's CPU per
 * `/health` request and 0.984x per cached download, where its A/A twin read 1.001x and 0.988x: a
 * small gain at most on this VM. What the class buys is the time the request really started (before
 * the adapter and the request-context wrapper ran) and no closure, promise or call per request.
 */
export class TimedResponse extends ServerResponse<IncomingMessage> {
  /** On the prototype of each server's subclass (`timedResponses`): no field per response. */
  declare readonly recorder: RequestRecorder | undefined;
  /** When Node created this response; -1 once recorded, or when there is no recorder. */
  private startMs = startOf(this);
  /** The request's context, left by `withRequestContext`. */
  context: RequestContext | undefined = undefined;

  override writeHead(
    statusCode: number,
    reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const start = this.startMs;
    if (start < 0) return super.writeHead(statusCode, reason as string, headers);
    const end = performance.now();
    // Recorded once Node has accepted the status (a second writeHead throws in Node, before this).
    super.writeHead(statusCode, reason as string, headers);
    this.startMs = -1;
    const record = this.recorder;
    if (record === undefined) return this;
    const status = this.statusCode;
    const context = this.context;
    const method = this.req.method ?? '';
    record(
      context?.route ?? 'other',
      knownMethods.has(method) ? method : 'other',
      status,
      (end - start) / 1000,
      // A 5xx the error funnel did not label is the adapter's own answer to a handler that threw.
      status >= 400 ? (context?.errorType ?? (status >= 500 ? 'internal' : undefined)) : undefined,
      context?.callerId ? context.id : undefined,
      context?.traceId,
      end,
    );
    return this;
  }
}

function startOf(response: TimedResponse): number {
  return response.recorder === undefined ? -1 : performance.now();
}

/** The response class (`serverOptions.ServerResponse`) of a server whose every request goes to `record`. */
export function timedResponses(record: RequestRecorder): typeof ServerResponse {
  class Timed extends TimedResponse {}
  Object.defineProperty(Timed.prototype, 'recorder', { value: record });
  // Node's types tie the class to its request type; ours takes Node's own IncomingMessage.
  return Timed as unknown as typeof ServerResponse;
}
