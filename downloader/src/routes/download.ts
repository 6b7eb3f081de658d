import type { Context } from 'hono';
import { ApiError, targetStatusError } from '../apiError.ts';
import type { CacheLayer } from '../cache/cache.ts';
import { FORMAT_TYPES, type Format, negotiate } from '../content/negotiate.ts';
import { type Converter, RenderError, render } from '../content/render.ts';
import { PdfError, type PdfRenderer } from '../pdf/pdfRenderer.ts';
import { spanOf } from '../telemetry/requestTiming.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import type { FetchResult, UpstreamClient } from '../upstream/client.ts';
import { SharedFetches } from '../upstream/sharedFetches.ts';
import { targetUrl } from './targetUrl.ts';

export interface DownloadDeps {
  upstream: UpstreamClient;
  cache?: CacheLayer;
  pdf?: PdfRenderer;
  /** HTML to text or Markdown: the process's ConvertPool (worker threads, a time budget), else inline. */
  convert?: Converter;
  /** OTLP tracing, when configured: the fetch, the render and the PDF become child spans. */
  tracing?: Tracing;
}

/**
 * GET /{url}: fetch once, answer in every format the Accept header asks for. Failures are thrown
 * (ApiError, or the fetch's, render's or PDF's own error) and answered by the app's one error funnel.
 */
export function downloadHandler(deps: DownloadDeps) {
  // Concurrent misses of one URL share its fetch (whatever formats they want): a page that goes
  // viral costs its origin one request, not one per reader.
  const fetches = new SharedFetches(
    (url, signal) => deps.upstream.fetch(url, { signal }),
    () => new ApiError('client_closed', 'the client went away before the answer was ready'),
  );
  return async (c: Context): Promise<Response> => {
    const span = deps.tracing ? spanOf(c.req.raw) : undefined;
    const inSpan = <T>(name: string, fn: () => T): T => (deps.tracing ? deps.tracing.child(span, name, fn) : fn());
    const target = targetUrl(c.req.url);
    if ('error' in target) throw new ApiError('invalid_url', target.error);
    const negotiated = negotiate(c.req.header('accept'));
    if (!negotiated)
      throw new ApiError(
        'unsupported_format',
        'Accept must include text/plain, text/markdown, text/html, application/json or application/pdf',
      );
    const { formats } = negotiated;
    const format = negotiated.several ? undefined : (formats[0] as Format);
    if (format === 'pdf') {
      if (!deps.pdf) throw new ApiError('pdf_unavailable', 'PDF rendering is not configured');
      const renderer = deps.pdf;
      const pdf = await inSpan('pdf render', () => renderer.render(target.url, c.req.raw.signal));
      return c.body(new Uint8Array(pdf), 200, {
        'content-type': 'application/pdf',
        'x-original-url': target.url,
        'x-cache': 'MISS',
      });
    }
    const cacheable = deps.cache && format ? format : undefined;
    if (cacheable && deps.cache) {
      const hit = await deps.cache.get(target.url, cacheable);
      if (hit) {
        return c.body(new Uint8Array(Buffer.from(hit.body, 'base64')), 200, {
          'content-type': hit.contentType,
          'x-original-url': target.url,
          'x-original-content-type': hit.originalType,
          'x-content-length': String(hit.originalLength),
          'x-cache': 'HIT',
        });
      }
    }
    const doc = await inSpan('upstream fetch', () => fetches.run(target.url, c.req.raw.signal));
    if (doc.status >= 400) throw targetStatusError(doc.status);
    const headers = {
      'x-original-url': target.url,
      'x-original-content-type': doc.headers['content-type'] ?? 'application/octet-stream',
      'x-content-length': String(doc.body.length),
      'x-cache': 'MISS',
    };
    if (!format) return inSpan('render', () => multiple(c, doc, formats, headers, deps.pdf, deps.convert));
    const out = await inSpan('render', () => render(doc, format, deps.convert, c.req.raw.signal));
    const body = typeof out.body === 'string' ? Buffer.from(out.body) : out.body;
    if (cacheable && deps.cache) {
      // Only successful renderings reach this point: errors are never cached. Fire and forget.
      void deps.cache.set(target.url, cacheable, {
        contentType: out.contentType,
        originalType: headers['x-original-content-type'] as string,
        originalLength: doc.body.length,
        body: body.toString('base64'),
      });
    }
    return c.body(new Uint8Array(body), 200, { ...headers, 'content-type': out.contentType });
  };
}

async function multiple(
  c: Context,
  doc: FetchResult,
  formats: Format[],
  headers: Record<string, string>,
  pdf?: PdfRenderer,
  convert?: Converter,
): Promise<Response> {
  // Keyed by media type, as the original service answers (`"text/html"`, `"text/markdown"`, `"errors"`).
  const result: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of formats) {
    const key = FORMAT_TYPES[f];
    if (f === 'pdf') {
      if (!pdf) errors[key] = 'PDF rendering is not configured';
      else {
        try {
          result[key] = {
            content_type: 'application/pdf',
            content: (await pdf.render(doc.url, c.req.raw.signal)).toString('base64'),
          };
        } catch (err) {
          if (!(err instanceof PdfError)) throw err;
          errors[key] = err.message;
        }
      }
      continue;
    }
    try {
      const out = await render(doc, f, convert, c.req.raw.signal);
      result[key] = f === 'json' ? JSON.parse(String(out.body)) : f === 'html' ? doc.body.toString('utf8') : out.body;
    } catch (err) {
      if (!(err instanceof RenderError)) throw err;
      errors[key] = err.message;
    }
  }
  return c.json({ ...result, errors }, 200, headers);
}
