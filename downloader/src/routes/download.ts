import type { Context } from 'hono';
import type { CacheLayer } from '../cache/cache.ts';
import { type Format, negotiate } from '../content/negotiate.ts';
import { RenderError, type Rendered, render } from '../content/render.ts';
import { errorResponse } from '../errors.ts';
import { PdfError, type PdfRenderer } from '../pdf/pdfRenderer.ts';
import { type FetchResult, type UpstreamClient, UpstreamError } from '../upstream/client.ts';
import { targetUrl } from './targetUrl.ts';
import { upstreamFailure } from './upstreamErrors.ts';

export interface DownloadDeps {
  upstream: UpstreamClient;
  cache?: CacheLayer;
  pdf?: PdfRenderer;
}

function pdfFailure(c: Context, err: PdfError): Response {
  const map = {
    unavailable: [503, 'pdf_unavailable'],
    timeout: [504, 'upstream_timeout'],
    blocked: [403, 'blocked_target'],
    error: [502, 'upstream_error'],
  } as const;
  const [status, type] = map[err.outcome];
  return errorResponse(c, status, type, err.message);
}

/** GET /{url}: fetch once, answer in every format the Accept header asks for. */
export function downloadHandler(deps: DownloadDeps) {
  return async (c: Context): Promise<Response> => {
    const target = targetUrl(c.req.url);
    if ('error' in target) return errorResponse(c, 400, 'invalid_url', target.error);
    const formats = negotiate(c.req.header('accept'));
    if (!formats)
      return errorResponse(
        c,
        406,
        'unsupported_format',
        'Accept must include text/plain, text/markdown, text/html, application/json or application/pdf',
      );
    const format = formats.length === 1 ? (formats[0] as Format) : undefined;
    if (format === 'pdf') {
      if (!deps.pdf) return errorResponse(c, 503, 'pdf_unavailable', 'PDF rendering is not configured');
      try {
        const pdf = await deps.pdf.render(target.url);
        return c.body(new Uint8Array(pdf), 200, {
          'content-type': 'application/pdf',
          'x-original-url': target.url,
          'x-cache': 'MISS',
        });
      } catch (err) {
        if (err instanceof PdfError) return pdfFailure(c, err);
        throw err;
      }
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
    let doc: FetchResult;
    try {
      doc = await deps.upstream.fetch(target.url, { signal: c.req.raw.signal });
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      const f = upstreamFailure(err);
      return errorResponse(c, f.status, f.type, f.message);
    }
    if (doc.status >= 400) {
      return c.json(
        { success: false, error: `upstream answered ${doc.status}`, error_type: 'upstream_error', upstream_status: doc.status },
        502,
      );
    }
    const headers = {
      'x-original-url': target.url,
      'x-original-content-type': doc.headers['content-type'] ?? 'application/octet-stream',
      'x-content-length': String(doc.body.length),
      'x-cache': 'MISS',
    };
    if (!format) return multiple(c, doc, formats, headers, deps.pdf);
    let out: Rendered;
    try {
      out = render(doc, format);
    } catch (err) {
      if (err instanceof RenderError) return errorResponse(c, err.status, err.errorType, err.message);
      throw err;
    }
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
): Promise<Response> {
  const result: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of formats) {
    if (f === 'pdf') {
      if (!pdf) errors.pdf = 'PDF rendering is not configured';
      else {
        try {
          result.pdf = { content_type: 'application/pdf', content: (await pdf.render(doc.url)).toString('base64') };
        } catch (err) {
          if (!(err instanceof PdfError)) throw err;
          errors.pdf = err.message;
        }
      }
      continue;
    }
    try {
      const out = render(doc, f);
      result[f] = f === 'json' ? JSON.parse(String(out.body)) : f === 'html' ? doc.body.toString('utf8') : out.body;
    } catch (err) {
      if (!(err instanceof RenderError)) throw err;
      errors[f] = err.message;
    }
  }
  return c.json({ ...result, errors }, 200, headers);
}
