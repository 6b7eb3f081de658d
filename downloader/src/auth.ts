import { bearerToken, createTokenCheck } from '@dl/shared';

/** DOWNLOADER_KEY: `Authorization: Bearer <key>` or `X-API-Key: <key>`, checked in constant time. */
export function createKeyCheck(key: string): (authorization: string | undefined, apiKey: string | undefined) => boolean {
  const matches = createTokenCheck(key);
  return (authorization, apiKey) => matches(apiKey ?? bearerToken(authorization));
}
