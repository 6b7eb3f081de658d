import { type DownloaderStats, VERSION } from '@dl/shared';
import type { Aggregator } from '../aggregate/aggregator.ts';
import type { Poller } from '../poll/poller.ts';
import { CollectedFamily, type Family, singleValue } from './families.ts';

export interface SelfSources {
  aggregator: Aggregator;
  downloader: Poller<DownloaderStats>;
  seriesLimit: number;
  ingest: IngestCounts;
  now: () => number;
}

export interface IngestCounts {
  /** The event socket's connections now, and how often one was paused for sending garbage. */
  connections: () => number;
  throttled: () => number;
  /** Lines the Redis stream delivered again (resent after a lost XADD answer), skipped uncounted. */
  duplicates: () => number;
}

/** The downloader's uptime and the exporter's own bookkeeping: series cap, expiry, connections, freshness. */
export function selfFamilies({ aggregator, downloader, seriesLimit, ingest, now }: SelfSources): Family[] {
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
    singleValue('exporter_socket_connections', 'Emitters connected to the event socket.', ingest.connections),
    singleValue(
      'exporter_socket_throttled_total',
      'Times a socket connection had its reading paused for sending more rejected input in a second than EVENTS_GARBAGE_BYTES_PER_S.',
      ingest.throttled,
      'counter',
    ),
    singleValue(
      'exporter_stream_duplicates_total',
      'Events the Redis stream carried a second time (a batch the downloader resent because the answer to its XADD was lost), skipped uncounted.',
      ingest.duplicates,
      'counter',
    ),
    singleValue('exporter_last_event_age_seconds', 'Seconds since the last valid event.', () =>
      aggregator.lastEventAt ? (now() - aggregator.lastEventAt) / 1000 : undefined,
    ),
  ];
}
