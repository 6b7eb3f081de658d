import * as z from 'zod';
import {
  CACHE_RESULTS,
  ERROR_TYPE_NAMES,
  EVENT_ENCODINGS,
  type EventKind,
  FORMATS,
  HTTP_METHODS,
  JOB_STATUSES,
  PDF_OUTCOMES,
  REQUEST_ID_PATTERN,
  TRACE_ID_PATTERN,
  UPSTREAM_OUTCOMES,
  WEBHOOK_OUTCOMES,
} from './vocabulary.ts';

/** Wire format version carried by every event as `v`. */
export const WIRE_VERSION = 1;
/** Longest accepted line in bytes, newline excluded. */
export const MAX_LINE_BYTES = 8 * 1024;

/**
 * Route templates (`/jobs/{job_id}/status`) or `other`. The character set is closed so a label value
 * can never carry a raw URL, a query string or text that needs escaping.
 */
export const ENDPOINT_PATTERN = /^(?:other|\/[A-Za-z0-9_\-./{}]{0,127})$/;

const ts = z.number().int().positive();
const seconds = z.number().finite().nonnegative().max(86_400);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const base = { v: z.literal(WIRE_VERSION), ts };

export const helloEvent = z.object({
  ...base,
  kind: z.literal('hello'),
  instance: z.string().min(1).max(128),
  pid: z.number().int().positive(),
  version: z.string().min(1).max(64),
  started_at: ts,
  /** What follows the hello on this connection; absent: NDJSON. */
  encoding: z.enum(EVENT_ENCODINGS).optional(),
});

export const requestEvent = z.object({
  ...base,
  kind: z.literal('request'),
  endpoint: z.string().regex(ENDPOINT_PATTERN),
  method: z.enum(HTTP_METHODS),
  status: z.number().int().min(100).max(599),
  duration_s: seconds,
  bytes: count.optional(),
  format: z.enum(FORMATS).optional(),
  request_id: z.string().regex(REQUEST_ID_PATTERN).optional(),
  /** The W3C trace id of a sampled incoming `traceparent`: becomes an exemplar of its latency bucket. */
  trace_id: z.string().regex(TRACE_ID_PATTERN).optional(),
  /** The error table's type of a failed answer; absent on success. Its cause decides whose failure it is. */
  error_type: z.enum(ERROR_TYPE_NAMES).optional(),
});

export const upstreamEvent = z.object({
  ...base,
  kind: z.literal('upstream'),
  outcome: z.enum(UPSTREAM_OUTCOMES),
  status: z.number().int().min(100).max(599).optional(),
  duration_s: seconds,
  retries: z.number().int().nonnegative().max(100),
  bytes: count.optional(),
  /**
   * A hash of the target's host:port, so the exporter can count distinct failing targets (the egress
   * check). Never a label; it never leaves the exporter.
   */
  host_hash: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .optional(),
});

export const cacheEvent = z.object({
  ...base,
  kind: z.literal('cache'),
  result: z.enum(CACHE_RESULTS),
  format: z.enum(FORMATS).optional(),
});

export const pdfEvent = z.object({ ...base, kind: z.literal('pdf'), outcome: z.enum(PDF_OUTCOMES), duration_s: seconds });

export const webhookEvent = z.object({
  ...base,
  kind: z.literal('webhook'),
  outcome: z.enum(WEBHOOK_OUTCOMES),
  attempts: z.number().int().positive().max(100),
  duration_s: seconds,
});

export const jobEvent = z.object({
  ...base,
  kind: z.literal('job'),
  status: z.enum(JOB_STATUSES),
  urls: z.number().int().nonnegative().max(100_000),
  duration_s: seconds.optional(),
});

export const droppedEvent = z.object({ ...base, kind: z.literal('dropped'), count: z.number().int().positive() });

export const eventSchemas = {
  hello: helloEvent,
  request: requestEvent,
  upstream: upstreamEvent,
  cache: cacheEvent,
  pdf: pdfEvent,
  webhook: webhookEvent,
  job: jobEvent,
  dropped: droppedEvent,
} as const satisfies Record<EventKind, z.ZodType>;

export type HelloEvent = z.infer<typeof helloEvent>;
export type RequestEvent = z.infer<typeof requestEvent>;
export type UpstreamEvent = z.infer<typeof upstreamEvent>;
export type CacheEvent = z.infer<typeof cacheEvent>;
export type PdfEvent = z.infer<typeof pdfEvent>;
export type WebhookEvent = z.infer<typeof webhookEvent>;
export type JobEvent = z.infer<typeof jobEvent>;
export type DroppedEvent = z.infer<typeof droppedEvent>;
export type TelemetryEvent =
  | HelloEvent
  | RequestEvent
  | UpstreamEvent
  | CacheEvent
  | PdfEvent
  | WebhookEvent
  | JobEvent
  | DroppedEvent;

/** An event as the downloader hands it to the emitter: `v` is added on the wire. */
export type EventInput = TelemetryEvent extends infer E ? (E extends TelemetryEvent ? Omit<E, 'v'> : never) : never;

/** Every kind but `request`: what the domain aggregator takes. */
export type DomainEvent = Exclude<TelemetryEvent, RequestEvent>;

/**
 * The default branch of a switch over a closed set: it typechecks only when every member has its
 * own case, so adding a kind, outcome or format without handling it fails the typecheck.
 */
export function unreachable(value: never): never {
  throw new Error(`unhandled value ${JSON.stringify(value)}`);
}
