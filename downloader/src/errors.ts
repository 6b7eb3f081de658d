import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The one error body shape of the public API. */
export function errorResponse(c: Context, status: ContentfulStatusCode, errorType: string, error: string): Response {
  return c.json({ success: false, error, error_type: errorType }, status);
}
