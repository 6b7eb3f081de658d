import type { FetchResult } from '../upstream/client.ts';
import { htmlToMarkdown, htmlToText, isHtml, isTextual } from './convert.ts';
import type { Format } from './negotiate.ts';

/**
 * Converts one page's HTML to text or Markdown: in worker threads when the process composes a
 * ConvertPool; `signal` aborts the wait for a worker when the client goes.
 */
export type Converter = (html: string, url: string, format: 'text' | 'markdown', signal?: AbortSignal) => Promise<string>;

/** On the calling thread, with no time budget: for tests and tools, never for the server (main.ts). */
export const convertInline: Converter = async (html, url, format) =>
  format === 'text' ? htmlToText(html, url) : htmlToMarkdown(html, url);

export interface Rendered {
  body: string | Buffer;
  contentType: string;
}

/** Raised when a format cannot be produced from what the upstream sent (answered 415 unsupported_content). */
export class RenderError extends Error {}

/** Turns one fetched document into one format. PDF is rendered elsewhere (it needs the browser). */
export async function render(
  doc: FetchResult,
  format: Exclude<Format, 'pdf'>,
  convert: Converter = convertInline,
  signal?: AbortSignal,
): Promise<Rendered> {
  const type = doc.headers['content-type'] ?? 'application/octet-stream';
  switch (format) {
    case 'html':
      return { body: doc.body, contentType: type };
    case 'json':
      return {
        contentType: 'application/json',
        body: JSON.stringify({
          success: true,
          url: doc.url,
          size: doc.body.length,
          content_type: type,
          content: doc.body.toString('base64'),
          metadata: { status_code: doc.status, headers: doc.headers },
        }),
      };
    case 'text':
    case 'markdown': {
      const html = isHtml(type);
      if (!html && !isTextual(type)) {
        throw new RenderError(`cannot convert ${type} to ${format}; ask for application/json or text/html`);
      }
      const text = doc.body.toString('utf8');
      if (!html)
        return { body: text, contentType: format === 'text' ? 'text/plain; charset=utf-8' : 'text/markdown; charset=utf-8' };
      return {
        body: await convert(text, doc.url, format, signal),
        contentType: format === 'text' ? 'text/plain; charset=utf-8' : 'text/markdown; charset=utf-8',
      };
    }
  }
}
