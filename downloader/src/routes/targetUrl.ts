/**
 * The target URL of GET /{url}: everything after the first slash, the request's own query string
 * kept. Accepts it percent-encoded, and repairs the `https:/host` that some clients and proxies make
 * of `https://host` by merging slashes.
 */
export function targetUrl(requestUrl: string): { url: string } | { error: string } {
  const u = new URL(requestUrl);
  let raw = u.pathname.slice(1) + u.search;
  if (/^https?%3a/i.test(raw)) {
    try {
      raw = decodeURIComponent(raw);
    } catch {
      return { error: 'the URL has a malformed percent-encoding (a % not followed by two hex digits)' };
    }
  }
  raw = raw.replace(/^(https?):\/(?!\/)/i, '$1://');
  if (!/^[a-z][a-z0-9+.-]*:/i.test(raw))
    return { error: 'the path must be an absolute http(s) URL, e.g. /https://example.com/page' };
  let target: URL;
  try {
    target = new URL(raw);
  } catch {
    return { error: `not a valid URL: ${raw.slice(0, 200)}` };
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    return { error: `scheme ${target.protocol} is not allowed; use http or https` };
  if (raw.length > 2048) return { error: 'URL longer than 2048 characters' };
  return { url: target.toString() };
}
