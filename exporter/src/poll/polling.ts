import type { Clock } from '../clock.ts';
import type { ExporterConfig } from '../config.ts';
import { createDownloaderPoller } from './downloaderPoller.ts';
import type { PollObserver } from './poller.ts';
import { createRedisPoller } from './redisPoller.ts';

export interface PollingDeps {
  config: ExporterConfig;
  observer: PollObserver;
  clock: Clock;
  log?: (message: string) => void;
}

/** The poll stage: the downloader's admin stats always, Redis when REDIS_URL is set. */
export function createPolling({ config, observer, clock, log }: PollingDeps) {
  const intervalMs = config.POLL_INTERVAL_S * 1000;
  const downloader = createDownloaderPoller({ url: config.DOWNLOADER_STATS_URL, intervalMs, observer, clock, log });
  const redis = config.REDIS_URL
    ? createRedisPoller({
        url: config.REDIS_URL,
        intervalMs,
        observer,
        clock,
        log,
        ...(config.EVENTS_TRANSPORT === 'redis' ? { stream: config.EVENTS_STREAM, group: config.EVENTS_GROUP } : {}),
      })
    : undefined;
  return {
    downloader,
    redis: redis?.poller,
    start(): void {
      downloader.start();
      redis?.poller.start();
    },
    async stop(): Promise<void> {
      downloader.stop();
      await redis?.close();
    },
  };
}

export type Polling = ReturnType<typeof createPolling>;
