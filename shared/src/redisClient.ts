import { Redis } from 'ioredis';

export interface RedisClientOptions {
  /** A command without a reply after this long fails (unset: no limit, for blocking reads). */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Connect only when `connect()` is called (transports that report their own connection state). */
  lazy?: boolean;
}

/**
 * The one way this project opens Redis, in both processes: never queue commands while disconnected,
 * never retry a command, reconnect with capped backoff. A Redis that is away makes calls fail at
 * once, so callers count it and move on instead of piling up work. Connection errors are reported
 * through failed commands and `status`, not as unhandled 'error' events.
 */
export function createRedisClient(url: string, options: RedisClientOptions = {}): Redis {
  const client = new Redis(url, {
    lazyConnect: options.lazy ?? false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
    retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2_000),
  });
  client.on('error', () => {});
  return client;
}
