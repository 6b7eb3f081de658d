/**
 * Options for every Redis client on a hot or monitoring path: never queue commands while
 * disconnected, never retry a command, reconnect with capped backoff. A Redis that is away makes
 * calls fail at once, so callers count it and move on instead of piling up work.
 */
export function failFastRedisOptions(commandTimeoutMs?: number) {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    ...(commandTimeoutMs ? { commandTimeout: commandTimeoutMs } : {}),
    retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2_000),
  };
}
