import { ERROR_TYPES, UPSTREAM_OUTCOMES } from '@dl/shared';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ApiError, errorResponse, targetStatusError, toApiError } from './apiError.ts';
import { RenderError } from './content/render.ts';
import { PdfError } from './pdf/pdfRenderer.ts';
import { UpstreamError } from './upstream/client.ts';

describe('ApiError and the one mapping to error_type', () => {
  const failed = UPSTREAM_OUTCOMES.filter((o) => o !== 'ok');
  const expected = {
    http_error: 'upstream_error',
    timeout: 'upstream_timeout',
    network: 'upstream_error',
    blocked: 'blocked_target',
    too_large: 'too_large',
    circuit_open: 'upstream_unavailable',
  } as const;

  it.each(failed)('a fetch that ended in %s', (outcome) => {
    const e = toApiError(new UpstreamError(outcome, 'why'));
    expect(e.type).toBe(expected[outcome]);
    expect(e.status).toBe(ERROR_TYPES[e.type].status);
  });

  it.each([
    ['unavailable', 'pdf_unavailable', 503],
    ['timeout', 'upstream_timeout', 504],
    ['blocked', 'blocked_target', 403],
    ['error', 'upstream_error', 502],
  ] as const)('a PDF render that ended in %s', (outcome, type, status) => {
    const e = toApiError(new PdfError(outcome, 'why'));
    expect([e.type, e.status]).toEqual([type, status]);
  });

  it('a render that cannot produce the format is 415; anything unknown is a 500 that leaks nothing', () => {
    expect(toApiError(new RenderError('binary')).type).toBe('unsupported_content');
    const internal = toApiError(new TypeError('secret path /etc/x'));
    expect(internal.toJSON()).toEqual({ success: false, error: 'internal server error', error_type: 'internal' });
  });

  it.each([
    [404, 404, 'HTTP 404: Not Found'],
    [403, 403, 'HTTP 403: Forbidden'],
    [410, 410, 'HTTP 410: Gone'],
    [429, 429, 'HTTP 429: Too Many Requests'],
    [500, 502, 'HTTP 500: Internal Server Error'],
    [503, 502, 'HTTP 503: Service Unavailable'],
    [499, 499, 'HTTP 499: Error'],
  ])("a target's %i answers %i http_error, as the original service does", (theirs, ours, message) => {
    const e = targetStatusError(theirs);
    expect(e.status).toBe(ours);
    expect(e.toJSON()).toEqual({ success: false, error: message, error_type: 'http_error', upstream_status: theirs });
  });

  it('answers with the status of the shared table and the one JSON error shape', async () => {
    const app = new Hono().get('/', (c) => errorResponse(c, new ApiError('unsupported_format', 'no')));
    const res = await app.request('/');
    expect(res.status).toBe(406);
    expect(await res.json()).toEqual({ success: false, error: 'no', error_type: 'unsupported_format' });
  });

  it('every error type of the table has a cause and a documented case', () => {
    for (const info of Object.values(ERROR_TYPES)) {
      expect(['client', 'target', 'service']).toContain(info.cause);
      expect(info.when.length).toBeGreaterThan(10);
    }
  });
});
