import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * A constant-time check of a presented secret against the configured one, for both processes
 * (DOWNLOADER_KEY, METRICS_TOKEN). Both sides are hashed to equal length first, so neither the
 * secret's content nor its length leaks through timing. An empty secret is refused here too.
 */
export function createTokenCheck(secret: string): (presented: string | undefined) => boolean {
  if (secret === '') throw new Error('an empty secret would accept anything; refuse it at configuration');
  const expected = digest(secret);
  return (presented) => presented !== undefined && timingSafeEqual(digest(presented), expected);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
}
