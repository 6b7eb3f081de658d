import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import TurndownService from 'turndown';

const BLOCKS = new Set([
  'P',
  'DIV',
  'H1',
  'H2',
  'H3',
  'H4',
  'H5',
  'H6',
  'LI',
  'TR',
  'PRE',
  'BLOCKQUOTE',
  'SECTION',
  'ARTICLE',
  'UL',
  'OL',
  'TABLE',
  'FIGURE',
]);

export function isHtml(contentType: string | undefined): boolean {
  return /^(text\/html|application\/xhtml\+xml)/i.test(contentType ?? '');
}

/** Text-like content that can be returned as text or Markdown as it is. */
export function isTextual(contentType: string | undefined): boolean {
  return /^(text\/|application\/(json|xml|[a-z.+-]+\+json|[a-z.+-]+\+xml|javascript))/i.test(contentType ?? '');
}

interface Article {
  title: string;
  html: string;
}

/**
 * A page as a document. linkedom parses documents, not fragments: text served as HTML, an empty body,
 * a lone `<p>` or a comment gives it no `<html>` element, and then reading the title throws. Such a
 * page is parsed again inside one, as a browser would place it.
 */
function parsePage(html: string) {
  const { document } = parseHTML(html);
  if (document.documentElement?.tagName === 'HTML') return document;
  return parseHTML(`<!doctype html><html><head></head><body>${html}</body></html>`).document;
}

/** The main article of a page, boilerplate (navigation, footers, ads) removed; the whole body if none is found. */
export function mainArticle(html: string, url: string): Article {
  const document = parsePage(html);
  const title = document.title ?? '';
  try {
    Object.defineProperty(document, 'baseURI', { value: url });
    const article = new Readability(document as unknown as Document).parse();
    if (article?.content) return { title: article.title || title, html: article.content };
  } catch {
    // Readability failed on odd markup: fall back to the body.
  }
  // Readability changes the document it reads, so the fallback starts from a fresh parse.
  const fresh = parsePage(html);
  for (const el of fresh.querySelectorAll('script, style, noscript, nav, footer, header, aside')) el.remove();
  return { title, html: fresh.body?.innerHTML ?? html };
}

/** Plain text with paragraphs kept apart. */
export function htmlToText(html: string, url: string): string {
  const article = mainArticle(html, url);
  const { document } = parseHTML(`<!doctype html><html><body>${article.html}</body></html>`);
  let out = '';
  const walk = (node: Node) => {
    if (node.nodeType === 3) out += (node.textContent ?? '').replace(/\s+/g, ' ');
    else if (node.nodeName === 'BR') out += '\n';
    else {
      const block = BLOCKS.has(node.nodeName);
      if (block) out += '\n\n';
      for (const child of node.childNodes) walk(child as Node);
      if (block) out += '\n\n';
    }
  };
  walk(document.body as unknown as Node);
  const text = out
    .split('\n')
    .map((l) => l.trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return article.title && !text.startsWith(article.title) ? `${article.title}\n\n${text}` : text;
}

const turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-' });

export function htmlToMarkdown(html: string, url: string): string {
  const article = mainArticle(html, url);
  const md = turndown.turndown(article.html).trim();
  return article.title && !md.startsWith(`# ${article.title}`) ? `# ${article.title}\n\n${md}` : md;
}
