import type { DownloaderStats, PoolStats } from '@dl/shared';
import type { Poller } from './poller.ts';

/** What the downloader's stats say, read the same way by the gauges, the health score and the live view. */
export const POOLS = ['pdf', 'batch'] as const;
export type PoolName = (typeof POOLS)[number];
export const COMPONENTS = ['downloader', 'redis', 'http_client', 'pdf_browser'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** Busy slots in percent of the limit; 0 for an absent or zero-sized pool. */
export function utilization(p: PoolStats | undefined): number {
  return p && p.limit > 0 ? (100 * p.active) / p.limit : 0;
}

/** The last good stats, or undefined while the downloader is not reachable. */
export function currentStats(poller: Poller<DownloaderStats>): DownloaderStats | undefined {
  return poller.up ? poller.value : undefined;
}

/**
 * Component states as the downloader reports them: true up, false down; a component it reports as
 * not configured (Redis without REDIS_URL, no PDF browser) is absent here, and its
 * `downloader_component_up` series is 0 like every component before the first good poll.
 */
export function componentStates(poller: Poller<DownloaderStats>): Partial<Record<ComponentName, boolean>> {
  const s = currentStats(poller);
  if (!s) return { downloader: false, redis: false, http_client: false, pdf_browser: false };
  const states: Partial<Record<ComponentName, boolean>> = { downloader: true };
  if (s.redis?.configured) states.redis = s.redis.up;
  if (s.http_client) states.http_client = s.http_client.healthy;
  if (s.pdf_browser) states.pdf_browser = s.pdf_browser.available;
  return states;
}

/** Downloader CPU use between the last two polls, in percent of one core. */
export function cpuPercent(p: Poller<DownloaderStats>): number | null {
  if (!p.up || !p.value || !p.previous || p.lastSuccessAt === undefined) return null;
  const seconds = (p.lastSuccessAt - p.previous.at) / 1000;
  if (seconds <= 0) return null;
  return (100 * (p.value.process.cpu_seconds_total - p.previous.value.process.cpu_seconds_total)) / seconds;
}
