import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { UpstreamError } from '../upstream/client.ts';

/** How a failed fetch answers the caller: status, error_type and message. */
export function upstreamFailure(e: UpstreamError): { status: ContentfulStatusCode; type: string; message: string } {
  switch (e.outcome) {
    case 'blocked':
      return { status: 403, type: 'blocked_target', message: `refused: ${e.message}` };
    case 'too_large':
      return { status: 413, type: 'too_large', message: e.message };
    case 'timeout':
      return { status: 504, type: 'upstream_timeout', message: e.message };
    case 'circuit_open':
      return { status: 503, type: 'upstream_unavailable', message: e.message };
    default:
      return { status: 502, type: 'upstream_error', message: e.message };
  }
}
