import { describe, expect, it } from 'vitest';
import { negotiate } from './negotiate.ts';

const one = (format: string) => ({ formats: [format], several: false });

describe('content negotiation (RFC 9110, q-values honoured)', () => {
  it.each([
    ['no header', undefined, one('text')],
    ['an empty header', '  ', one('text')],
    ["curl's and fetch's default", '*/*', one('text')],
    ["axios' default: one representation, the first known", 'application/json, text/plain, */*', one('json')],
    ["a browser's", 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8', one('html')],
    ["the original's multi-format example", 'text/html, text/markdown', { formats: ['html', 'markdown'], several: true }],
    ['three at one q', 'text/plain, text/markdown, application/pdf', { formats: ['text', 'markdown', 'pdf'], several: true }],
    ["the original's single types", 'text/markdown', one('markdown')],
    ['PDF', 'application/pdf', one('pdf')],
    ['q=0 excludes, the rest wins', 'application/pdf;q=0, text/plain', one('text')],
    ['q=0 excludes what a wildcard would give', 'text/plain;q=0, text/*', one('markdown')],
    ['q=0 on a type, */* for the rest', 'application/pdf;q=0, */*', one('text')],
    ['known types that differ in q: the best one', 'text/html;q=0.5, text/markdown;q=0.9', one('markdown')],
    ['two at the top, one lower: the first of the top', 'text/html, text/markdown, application/json;q=0.5', one('html')],
    ['a known type above a wildcard', 'text/*;q=0.5, application/json', one('json')],
    ['a wildcard above a known type', '*/*, application/json;q=0.2', one('text')],
    ['application/*', 'application/*', one('json')],
    ['the same type twice', 'text/markdown, text/markdown', one('markdown')],
    ['case and spaces', ' Text/Markdown ; q=1 ', one('markdown')],
  ])('%s: %j', (_name, accept, expected) => {
    expect(negotiate(accept)).toEqual(expected);
  });

  it.each([
    ['unknown types only', 'image/webp'],
    ['several unknown types', 'image/webp, application/xml'],
    ['everything refused', '*/*;q=0'],
    ['the only known type refused', 'text/markdown;q=0'],
  ])('%s (%j): nothing acceptable, 406', (_name, accept) => {
    expect(negotiate(accept)).toBeUndefined();
  });
});
