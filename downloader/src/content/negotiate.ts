import type { OutputFormat } from '@dl/shared';
import { parseAccept } from 'hono/utils/accept';

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
/** What a wildcard stands for, in order of preference: text first (the default), PDF last. */
const WILDCARD_ORDER: readonly Format[] = ['text', 'markdown', 'html', 'json', 'pdf'];

/** One representation, or several as one JSON object keyed by media type. */
export type Negotiated = { formats: Format[]; several: boolean };

/**
 * Content negotiation per RFC 9110 (hono's Accept parser): q-values are honoured and q=0 excludes.
 * A header with a wildcard, or whose known types differ in q, is an ordinary client and gets the one
 * best format (ties: the order given; a wildcard stands for text/plain, else the first format it
 * covers). Several known types at one top q and no wildcard, as the original service documents
 * (`text/html, text/markdown`), ask for all of them at once. No header: text/plain. Nothing
 * acceptable: undefined (406).
 */
export function negotiate(accept: string | undefined): Negotiated | undefined {
  if (!accept || accept.trim() === '') return { formats: ['text'], several: false };
  const entries = parseAccept(accept).map((e) => ({ type: e.type.toLowerCase(), q: e.q }));
  const refused = new Set(entries.filter((e) => e.q === 0).map((e) => e.type));
  const live = entries.filter((e) => e.q > 0);
  const isWildcard = (type: string) => type === '*/*' || type.endsWith('/*');
  const known = live.filter((e) => BY_TYPE.has(e.type) && !refused.has(e.type));
  const top = known[0];
  if (top && !live.some((e) => isWildcard(e.type)) && known.length > 1 && known.every((e) => e.q === top.q)) {
    const formats = [...new Set(known.map((e) => BY_TYPE.get(e.type) as Format))];
    return { formats, several: formats.length > 1 };
  }
  // The best entry first (parseAccept orders by q, keeping the given order among equals).
  for (const e of live) {
    const exact = BY_TYPE.get(e.type);
    if (exact && !refused.has(e.type)) return { formats: [exact], several: false };
    if (!isWildcard(e.type)) continue;
    const family = e.type === '*/*' ? '' : e.type.slice(0, -1); // 'text/' of 'text/*'
    const covered = WILDCARD_ORDER.find((f) => FORMAT_TYPES[f].startsWith(family) && !refused.has(FORMAT_TYPES[f]));
    if (covered) return { formats: [covered], several: false };
  }
  return undefined;
}
