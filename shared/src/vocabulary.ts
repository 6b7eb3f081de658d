/**
 * Every closed list of the contract, declared once. Schemas, label sets, fast readers, switches
 * and docs derive from these; a switch over one ends in `unreachable`, so a new member that is not
 * handled fails the typecheck instead of being dropped at run time.
 */

export const EVENT_KINDS = ['hello', 'request', 'upstream', 'cache', 'pdf', 'webhook', 'job', 'dropped'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * How a socket connection's events travel after its hello: NDJSON lines (the documented format,
 * and the default for any writer) or binary frames (our emitter's default; see wire/binaryRecord.ts).
 */
export const EVENT_ENCODINGS = ['ndjson', 'binary-v1'] as const;
export type EventEncoding = (typeof EVENT_ENCODINGS)[number];

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'other'] as const;
export const UPSTREAM_OUTCOMES = ['ok', 'http_error', 'timeout', 'network', 'blocked', 'too_large', 'circuit_open'] as const;
export type UpstreamOutcome = (typeof UPSTREAM_OUTCOMES)[number];
export const CACHE_RESULTS = ['hit', 'miss', 'error'] as const;
export type CacheResult = (typeof CACHE_RESULTS)[number];
/** `queue_full`: refused, every slot busy and the queue at its cap; `abandoned`: its client went away. */
export const PDF_OUTCOMES = ['ok', 'error', 'timeout', 'unavailable', 'queue_full', 'abandoned'] as const;
export type PdfOutcome = (typeof PDF_OUTCOMES)[number];
export const WEBHOOK_OUTCOMES = ['ok', 'failed'] as const;
export const JOB_STATUSES = ['created', 'completed', 'failed', 'cancelled'] as const;

/** What GET /{url} can answer in, one format per Accept type. */
export const OUTPUT_FORMATS = ['text', 'markdown', 'html', 'json', 'pdf'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
/** A batch job renders without the browser: every output format but PDF. */
export const BATCH_FORMATS = ['text', 'markdown', 'html', 'json'] as const satisfies readonly OutputFormat[];
export type BatchFormat = (typeof BATCH_FORMATS)[number];
/** The `format` of an event: one output format, or `multi` for several at once. */
export const FORMATS = [...OUTPUT_FORMATS, 'multi'] as const;

/**
 * A request id as the downloader accepts it from `X-Request-Id` and carries it (events, logs, jobs):
 * 1-128 characters of a closed set that needs no escaping in JSON, a header or a log line. A header
 * outside it is replaced by a generated UUID.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:=+/-]{1,128}$/;

/** A W3C trace id: 32 lowercase hex digits, not all zero. */
export const TRACE_ID_PATTERN = /^(?!0{32})[0-9a-f]{32}$/;

/** Whose fault a failed request is: the caller's, the target's, or our own. */
export const ERROR_CAUSES = ['client', 'target', 'service'] as const;
export type ErrorCause = (typeof ERROR_CAUSES)[number];

interface ErrorTypeInfo {
  readonly status: 400 | 401 | 403 | 404 | 406 | 408 | 413 | 415 | 422 | 429 | 431 | 499 | 500 | 502 | 503 | 504;
  readonly cause: ErrorCause;
  readonly when: string;
}

/**
 * The public API's error table: every `error_type`, its HTTP status and its cause. The downloader
 * answers with these and nothing else; docs/api.md's error table is generated from it.
 */
export const ERROR_TYPES = {
  invalid_url: {
    status: 400,
    cause: 'client',
    when: 'not an absolute http(s) URL: another scheme (`file:`, `gopher:`, `data:`...), malformed percent-encoding',
  },
  invalid_request: {
    status: 400,
    cause: 'client',
    when: 'a batch body that is not JSON or breaks a limit (the message names the field); a request that is not valid HTTP',
  },
  webhooks_disabled: { status: 400, cause: 'client', when: '`webhook_url` given but no `WEBHOOK_SECRET` configured' },
  unauthorized: { status: 401, cause: 'client', when: '`DOWNLOADER_KEY` is set and the request lacks it' },
  blocked_target: {
    status: 403,
    cause: 'client',
    when: 'the target (or a redirect hop) is loopback, private, link-local, CGNAT, multicast, unspecified or cloud metadata',
  },
  not_found: { status: 404, cause: 'client', when: 'unknown route or job' },
  request_timeout: {
    status: 408,
    cause: 'client',
    when: 'the request did not arrive in time (answered by the HTTP server itself)',
  },
  headers_too_large: {
    status: 431,
    cause: 'client',
    when: 'the request line or headers passed the HTTP server limit, e.g. a 100 kB URL (answered by the server itself)',
  },
  body_too_large: {
    status: 413,
    cause: 'client',
    when: 'a request body over its limit (`BATCH_BODY_MAX_BYTES`), refused while it is read',
  },
  unsupported_format: {
    status: 406,
    cause: 'client',
    when: 'nothing acceptable in `Accept` (unknown types only, or all at `q=0`)',
  },
  client_closed: {
    status: 499,
    cause: 'client',
    when: 'the client went away before the answer was ready (its queued or running PDF render was stopped); nobody receives it',
  },
  rate_limit_exceeded: {
    status: 429,
    cause: 'client',
    when: 'the caller (its API key, else its address) used up its requests of this endpoint class (`RATELIMIT_*`); `Retry-After` says when to come back',
  },
  too_large: { status: 413, cause: 'target', when: 'the target body passed 20 MiB (streamed, never buffered whole)' },
  unsupported_content: { status: 415, cause: 'client', when: 'text or Markdown asked of binary content' },
  internal: { status: 500, cause: 'service', when: 'a bug: the downloader failed on its own' },
  http_error: {
    status: 502,
    cause: 'target',
    when: "the target answered an error, as the original service reports it (`HTTP 404: Not Found`): a 4xx is passed through with the target's own status, a 5xx is 502; `upstream_status` says which",
  },
  upstream_error: {
    status: 502,
    cause: 'target',
    when: 'the target could not be fetched (network, DNS, too many redirects)',
  },
  upstream_unavailable: { status: 503, cause: 'target', when: "the target host's circuit breaker is open" },
  pdf_unavailable: { status: 503, cause: 'service', when: 'PDF asked and no browser can be launched' },
  queue_full: {
    status: 503,
    cause: 'service',
    when: 'every slot of the PDF, batch or conversion pool is busy and its queue is at its cap (`PDF_QUEUE_MAX`, `BATCH_QUEUE_MAX`, `CONVERT_QUEUE_MAX`); `Retry-After` says when to come back',
  },
  jobs_unavailable: { status: 503, cause: 'service', when: 'the job store (Redis) is unreachable' },
  upstream_timeout: { status: 504, cause: 'target', when: 'connect, headers or body timeout, or a PDF render timeout' },
  // Appended, not sorted in: binary frames carry a type's position in this list.
  unconvertible_content: {
    status: 422,
    cause: 'target',
    when: "the target's HTML could not become text or Markdown: it took longer than `CONVERT_TIMEOUT_S`, needed more memory than `CONVERT_HEAP_MB` or is nested past what the converter can walk (the HTML and JSON formats still work)",
  },
} as const satisfies Record<string, ErrorTypeInfo>;
export type ErrorType = keyof typeof ERROR_TYPES;
export const ERROR_TYPE_NAMES = Object.keys(ERROR_TYPES) as [ErrorType, ...ErrorType[]];

/** The `cause` label of the request metrics: one of the causes, or `none` for a request that succeeded. */
export const CAUSE_LABELS = ['none', ...ERROR_CAUSES] as const;
export type CauseLabel = (typeof CAUSE_LABELS)[number];

/**
 * Whose fault a finished request is. Below 400 nobody's (`none`); otherwise its error type's cause,
 * or, for an error without one (a downloader older than error types), 5xx is ours and 4xx the caller's.
 */
export function causeOf(status: number, errorType: ErrorType | undefined): CauseLabel {
  if (status < 400) return 'none';
  if (errorType !== undefined) return ERROR_TYPES[errorType].cause;
  return status >= 500 ? 'service' : 'client';
}
