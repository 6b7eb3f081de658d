import { type DownloaderStats, downloaderStatsSchema } from '@dl/shared';
import type { Clock } from '../clock.ts';
import { Poller, type PollObserver } from './poller.ts';

export interface DownloaderPollerOptions {
  url: string;
  intervalMs: number;
  observer: PollObserver;
  clock: Clock;
  log?: (message: string) => void;
}

/** Polls the downloader's admin `/internal/stats`; a non-200 or a body off the contract is a failed poll. */
export function createDownloaderPoller(options: DownloaderPollerOptions): Poller<DownloaderStats> {
  return new Poller<DownloaderStats>({
    target: 'downloader',
    intervalMs: options.intervalMs,
    timeoutMs: Math.min(options.intervalMs, 2_000),
    observer: options.observer,
    clock: options.clock,
    log: options.log,
    poll: async (signal) => {
      const res = await fetch(options.url, { signal });
      if (!res.ok) throw new Error(`HTTP ${res.status} from ${options.url}`);
      const parsed = downloaderStatsSchema.safeParse(await res.json());
      if (!parsed.success) throw new Error(`unexpected stats shape: ${parsed.error.issues[0]?.path.join('.') ?? '?'}`);
      return parsed.data;
    },
  });
}
