import { type DownloaderStats, VERSION } from '@dl/shared';
import type { Aggregator } from '../aggregate/aggregator.ts';
import type { Poller } from '../poll/poller.ts';
import { CollectedFamily, type Family, singleValue } from './families.ts';

export interface SelfSources {
  aggregator: Aggregator;
  downloader: Poller<DownloaderStats>;
  seriesLimit: number;
  /** The event socket's connections now, and how often one was paused for sending garbage. */
  socket: { connections: () => number; throttled: () => number };
  now: () => number;
}

/** The downloader's uptime and the exporter's own bookkeeping: series cap, expiry, connections, freshness. */
export function selfFamilies({ aggregator, downloader, seriesLimit, socket, now }: SelfSources): Family[] {
  const { requests, domain } = aggregator;
  const downloaderUptime = () => {
    if (downloader.up && downloader.value) return downloader.value.uptime_seconds;
    return domain.lastHello ? (now() - domain.lastHello.started_at) / 1000 : undefined;
  };
  return [
    singleValue('downloader_uptime_seconds', 'Seconds since the downloader started.', downloaderUptime),
    new CollectedFamily(
      'exporter_build_info',
      'The exporter build serving this scrape: always 1.',
      ['version', 'node_version'],
      () => [[[VERSION, process.version], 1]],
    ),
    singleValue(
      'exporter_series_overflow_total',
      'Request events folded into the __overflow__ series by the cardinality cap.',
      () => requests.overflowed,
      'counter',
    ),
    singleValue(
      'exporter_series_expired_total',
      'Request series removed after SERIES_TTL unseen.',
      () => requests.expired,
      'counter',
    ),
    singleValue('exporter_request_series', 'Live (endpoint, method) request series.', () => requests.seriesCount),
    singleValue('exporter_series_limit', 'Cap on (endpoint, method) request series.', () => seriesLimit),
    singleValue('exporter_socket_connections', 'Emitters connected to the event socket.', socket.connections),
    singleValue(
      'exporter_socket_throttled_total',
      'Times a socket connection had its reading paused for sending more rejected input in a second than EVENTS_GARBAGE_BYTES_PER_S.',
      socket.throttled,
      'counter',
    ),
    singleValue('exporter_last_event_age_seconds', 'Seconds since the last valid event.', () =>
      aggregator.lastEventAt ? (now() - aggregator.lastEventAt) / 1000 : undefined,
    ),
  ];
}
