import { createRedisClient } from '@dl/shared';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.ts';
import { Poller, type PollObserver } from './poller.ts';
import { parseRedisInfo, type RedisInfo } from './redisInfo.ts';

export interface RedisFigures extends RedisInfo {
  ping_seconds: number;
  /** Events stream length and entries delivered but not acknowledged; undefined when no stream exists. */
  stream_length?: number;
  stream_pending?: number;
}

export interface RedisPollerOptions {
  url: string;
  intervalMs: number;
  observer: PollObserver;
  clock: Clock;
  /** The events stream to describe with XINFO, when the redis transport is in use. */
  stream?: string;
  group?: string;
  log?: (message: string) => void;
}

/**
 * Polls Redis with its own connection: PING latency, INFO, and the events stream. The client never
 * queues commands while disconnected, so a down Redis fails the poll at once (up 0) instead of piling up.
 */
export function createRedisPoller(options: RedisPollerOptions): { poller: Poller<RedisFigures>; close(): Promise<void> } {
  const timeoutMs = Math.min(options.intervalMs, 2_000);
  // State changes are logged by the poller, once.
  const client = createRedisClient(options.url, { connectTimeoutMs: timeoutMs });
  const poller = new Poller<RedisFigures>({
    target: 'redis',
    intervalMs: options.intervalMs,
    timeoutMs,
    observer: options.observer,
    clock: options.clock,
    log: options.log,
    poll: async (signal) => {
      const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('timeout'))));
      const work = async (): Promise<RedisFigures> => {
        const t = performance.now();
        await client.ping();
        const ping_seconds = (performance.now() - t) / 1000;
        const info = parseRedisInfo(await client.info());
        const stream = options.stream ? await streamFigures(client, options.stream, options.group) : {};
        return { ...info, ping_seconds, ...stream };
      };
      return Promise.race([work(), aborted]);
    },
  });
  return {
    poller,
    close: async () => {
      poller.stop();
      client.disconnect();
    },
  };
}

async function streamFigures(client: Redis, stream: string, group?: string) {
  const length = await client.xlen(stream);
  if (!group) return { stream_length: length };
  const pending = (await client.xpending(stream, group).catch(() => [0])) as [number, ...unknown[]];
  return { stream_length: length, stream_pending: Number(pending[0] ?? 0) };
}
