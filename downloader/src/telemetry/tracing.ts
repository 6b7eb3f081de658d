import {
  context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';

/**
 * Optional OTLP trace export of the downloader's own spans (OpenTelemetry SDK): a server span per
 * request, joined to the caller's `traceparent` when it sends one, and child spans for the upstream
 * fetch, the render and the PDF. Context is passed by hand (the request carries its span), so no
 * async-hooks context manager runs on the request path. Spans leave in batches, off the request path;
 * an unreachable collector costs dropped spans, never a request. Nothing is propagated to targets.
 */
export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to `<endpoint>/v1/traces` (OTLP/HTTP, JSON). */
  endpoint: string;
  serviceName: string;
  version: string;
  /** Share of new traces (requests without a sampled parent) that are kept, 0-1. */
  ratio: number;
  /** How long spans wait to be batched, ms. */
  batchDelayMs: number;
}

export interface Tracing {
  /** Starts the server span of one request, a child of its `traceparent` when that is valid. */
  startServer(method: string, traceparent: string | undefined): Span;
  /** Runs `fn` inside a child span of `parent` (ended when `fn` settles; a throw marks it an error). */
  child<T>(parent: Span | undefined, name: string, fn: () => T): T;
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

/** The trace id of a span that is sampled (its trace is kept), for exemplars and logs. */
export function sampledTraceIdOf(span: Span): string | undefined {
  const c = span.spanContext();
  return (c.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? c.traceId : undefined;
}

export function createTracing(o: TracingOptions): Tracing {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.serviceName, 'service.version': o.version }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(o.ratio) }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${o.endpoint.replace(/\/$/, '')}/v1/traces` }),
        scheduledDelayMillis: o.batchDelayMs,
        maxQueueSize: 2048,
      }),
    ],
  });
  const tracer = provider.getTracer('downloader', o.version);
  return {
    startServer(method, traceparent) {
      const parent = traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter) : ROOT_CONTEXT;
      return tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } }, parent);
    },
    child<T>(parent: Span | undefined, name: string, fn: () => T): T {
      if (!parent) return fn();
      const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL }, trace.setSpan(context.active(), parent));
      const fail = (err: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        span.end();
      };
      let result: T;
      try {
        result = fn();
      } catch (err) {
        fail(err);
        throw err;
      }
      if (result instanceof Promise) {
        return result.then(
          (v) => {
            span.end();
            return v;
          },
          (err: unknown) => {
            fail(err);
            throw err;
          },
        ) as T;
      }
      span.end();
      return result;
    },
    shutdown: () => provider.shutdown(),
  };
}
