import { DomainAggregator } from './aggregate/domainAggregator.ts';
import { RequestAggregator } from './aggregate/requestAggregator.ts';
import type { ExporterConfig } from './config.ts';
import { responseTimeBounds } from './config.ts';
import { createProcessRegistries, renderExposition } from './exposition.ts';
import { CollectedFamily, type ExpositionFormat, type Family } from './metrics/families.ts';
import { Pipeline } from './pipeline.ts';
import { SocketReceiver } from './receivers/socketReceiver.ts';

export interface ExporterDeps {
  config: ExporterConfig;
  now?: () => number;
  log?: (message: string) => void;
}

export type Exporter = ReturnType<typeof createExporter>;

/** Wires receivers -> pipeline -> aggregators -> exposition. Owns no HTTP and reads no environment. */
export function createExporter(deps: ExporterDeps) {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const requests = new RequestAggregator({
    bounds: responseTimeBounds(config.APDEX_T_S, config.SLO_LATENCY_S),
    seriesLimit: config.SERIES_LIMIT,
  });
  const domain = new DomainAggregator();
  const pipeline = new Pipeline({ requests, domain, now });
  const socket =
    config.EVENTS_TRANSPORT === 'socket'
      ? new SocketReceiver({
          path: config.EVENTS_SOCKET,
          mode: config.EVENTS_SOCKET_MODE,
          onLine: (bytes, start, end) => pipeline.handleLine(bytes, start, end, 'socket'),
          onTooLong: () => pipeline.reject('too_long'),
          log: deps.log,
        })
      : undefined;
  const registries = createProcessRegistries('exporter_');

  const selfFamilies: Family[] = [
    new CollectedFamily('downloader_uptime_seconds', 'Seconds since the downloader started (from its hello).', [], () =>
      domain.lastHello ? [[[], (now() - domain.lastHello.started_at) / 1000]] : [],
    ),
    new CollectedFamily(
      'exporter_series_overflow_total',
      'Request events folded into the __overflow__ series by the cardinality cap.',
      [],
      () => [[[], requests.overflowed]],
      'counter',
    ),
    new CollectedFamily(
      'exporter_series_expired_total',
      'Request series removed after SERIES_TTL unseen.',
      [],
      () => [[[], requests.expired]],
      'counter',
    ),
    new CollectedFamily('exporter_request_series', 'Live (endpoint, method) request series.', [], () => [
      [[], requests.seriesCount],
    ]),
    new CollectedFamily('exporter_series_limit', 'Cap on (endpoint, method) request series.', [], () => [
      [[], config.SERIES_LIMIT],
    ]),
    new CollectedFamily('exporter_socket_connections', 'Emitters connected to the event socket.', [], () => [
      [[], socket?.connections ?? 0],
    ]),
    new CollectedFamily('exporter_last_event_age_seconds', 'Seconds since the last valid event.', [], () =>
      domain.lastEventAt ? [[[], (now() - domain.lastEventAt) / 1000]] : [],
    ),
  ];
  const families = [...requests.families, ...domain.families, ...pipeline.families, ...selfFamilies];
  const sweeper = setInterval(() => requests.sweep(now(), config.SERIES_TTL * 1000), 30_000);
  sweeper.unref();

  return {
    config,
    pipeline,
    requests,
    domain,
    startedAt,
    now,
    uptimeSeconds: () => (now() - startedAt) / 1000,
    ready: () => config.EVENTS_TRANSPORT === 'off' || (socket?.listening ?? false),
    render: (format: ExpositionFormat) => renderExposition(families, registries, format),
    async start(): Promise<void> {
      await socket?.start();
    },
    async stop(): Promise<void> {
      clearInterval(sweeper);
      await socket?.close();
    },
  };
}
