import { STATUS_CODES } from 'node:http';
import { ERROR_TYPES, type ErrorType } from '@dl/shared';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConvertError } from './content/convertPool.ts';
import { RenderError } from './content/render.ts';
import { PdfError } from './pdf/pdfRenderer.ts';
import { tagErrorType } from './telemetry/requestTiming.ts';
import { UpstreamError } from './upstream/client.ts';

/**
 * A failure the public API answers with: a stable `error_type` from the shared error table (which
 * fixes the HTTP status and the cause), a message for humans, and optional extra fields.
 */
export class ApiError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
    /** Only `http_error` answers with a status of its own: the target's 4xx. */
    private readonly statusOverride?: number,
  ) {
    super(message);
  }

  get status(): number {
    return this.statusOverride ?? ERROR_TYPES[this.type].status;
  }

  /** The body every error of the API has: `success`, `error`, `error_type`, then any extra fields. */
  toJSON(): Record<string, unknown> {
    return { success: false, error: this.message, error_type: this.type, ...this.extra };
  }
}

/** How long a caller turned away by a full queue should wait. */
export const RETRY_LATER = { 'retry-after': '5' };

/** The one mapping of everything that can fail a download (fetch, render, PDF) to an ApiError. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof UpstreamError) {
    switch (err.outcome) {
      case 'blocked':
        return new ApiError('blocked_target', `refused: ${err.message}`);
      case 'too_large':
        return new ApiError('too_large', err.message);
      case 'timeout':
        return new ApiError('upstream_timeout', err.message);
      case 'circuit_open':
        return new ApiError('upstream_unavailable', err.message);
      case 'network':
      case 'http_error':
        // A target that asked for a longer wait than the retry budget: pass its Retry-After on.
        return new ApiError(
          'upstream_error',
          err.message,
          err.status ? { upstream_status: err.status } : {},
          err.retryAfterS ? { 'retry-after': String(err.retryAfterS) } : {},
        );
    }
  }
  if (err instanceof PdfError) {
    if (err.outcome === 'queue_full') return new ApiError('queue_full', err.message, {}, RETRY_LATER);
    const type = {
      unavailable: 'pdf_unavailable',
      timeout: 'upstream_timeout',
      blocked: 'blocked_target',
      error: 'upstream_error',
      abandoned: 'client_closed',
    } as const;
    return new ApiError(type[err.outcome], err.message);
  }
  if (err instanceof ConvertError) {
    if (err.outcome === 'queue_full') return new ApiError('queue_full', err.message, {}, RETRY_LATER);
    return new ApiError(err.outcome === 'abandoned' ? 'client_closed' : 'unconvertible_content', err.message);
  }
  if (err instanceof RenderError) return new ApiError('unsupported_content', err.message);
  return new ApiError('internal', 'internal server error');
}

/**
 * The target answered with an error status, reported as the original service does: `http_error`,
 * `HTTP 404: Not Found`, the target's own 4xx passed through (a dead link is the caller's news, not
 * our outage), a 5xx as 502. Theirs is in `upstream_status` too.
 */
export function targetStatusError(status: number): ApiError {
  const message = `HTTP ${status}: ${STATUS_CODES[status] ?? 'Error'}`;
  return new ApiError('http_error', message, { upstream_status: status }, {}, status < 500 ? status : 502);
}

/** Answers with `err` (anything: it goes through toApiError first); the request event will carry its type. */
export function errorResponse(c: Context, err: unknown): Response {
  const e = toApiError(err);
  tagErrorType(c.req.raw, e.type);
  // 499 (nginx's "client closed request") is not in Hono's list of statuses; Node writes it all the same.
  return c.json(e.toJSON(), e.status as ContentfulStatusCode, e.headers);
}
