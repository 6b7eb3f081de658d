import type { OutputFormat } from '@dl/shared';

/** The Accept type of each output format of GET /{url} (the list itself is the shared OUTPUT_FORMATS). */
export const FORMAT_TYPES = {
  text: 'text/plain',
  markdown: 'text/markdown',
  html: 'text/html',
  json: 'application/json',
  pdf: 'application/pdf',
} as const satisfies Record<OutputFormat, string>;
export type Format = OutputFormat;

const BY_TYPE = new Map<string, Format>(Object.entries(FORMAT_TYPES).map(([f, t]) => [t, f as Format]));

/**
 * Formats asked for, in order. No header or a wildcard means text/plain (the default); several
 * known types mean "all of them, as one JSON object". Unknown types are ignored; only unknown
 * types (no known one, no wildcard) is an error the caller turns into 406.
 */
export function negotiate(accept: string | undefined): Format[] | undefined {
  if (!accept || accept.trim() === '') return ['text'];
  const formats: Format[] = [];
  let wildcard = false;
  for (const part of accept.split(',')) {
    const type = part.split(';')[0]?.trim().toLowerCase() ?? '';
    if (type === '*/*' || type === 'text/*') wildcard = true;
    const f = BY_TYPE.get(type);
    if (f && !formats.includes(f)) formats.push(f);
  }
  if (formats.length) return formats;
  return wildcard ? ['text'] : undefined;
}
