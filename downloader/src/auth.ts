import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Checks `Authorization: Bearer <key>` or `X-API-Key: <key>` against the configured key in constant
 * time (both sides hashed to equal length first, so not even the key's length leaks).
 */
export function createKeyCheck(key: string): (authorization: string | undefined, apiKey: string | undefined) => boolean {
  const expected = digest(key);
  return (authorization, apiKey) => {
    const given = apiKey ?? (authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined);
    return given !== undefined && timingSafeEqual(digest(given), expected);
  };
}
