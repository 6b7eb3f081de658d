import { readdir } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import client from 'prom-client';
import { encodeFamilies } from './clientModel.ts';
import type { ExpositionFormat } from './families.ts';
import type { FamilySet } from './familySet.ts';
import { processFamilies } from './processProto.ts';

/**
 * The exporter's own process metrics (never the global registry): one set of collectors, so one
 * event-loop monitor and one set of timers, in two registries because prom-client fixes the format
 * per registry.
 */
type ProcessRegistries = { prometheus: client.Registry; openmetrics: client.Registry<client.OpenMetricsContentType> };

/** prom-client's gauges named like counters (`nodejs_active_handles_total`): promtool flags them, and each repeats a gauge without the suffix. */
const MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * The event-loop delay timer's interval. monitorEventLoopDelay records the time between its timer's
 * runs, so every sample is this interval plus the delay: prom-client reports those as they are
 * (an idle loop reads 10 ms). Ours takes the interval off, and wakes the loop 10 times a second
 * instead of 100: a stall shorter than it is seen in proportion to its length, a longer one always.
 */
const LAG_RESOLUTION_MS = 100;
const LAG_FIGURES = {
  min: (h: ReturnType<typeof monitorEventLoopDelay>) => h.min,
  max: (h: ReturnType<typeof monitorEventLoopDelay>) => h.max,
  mean: (h: ReturnType<typeof monitorEventLoopDelay>) => h.mean,
  p50: (h: ReturnType<typeof monitorEventLoopDelay>) => h.percentile(50),
  p90: (h: ReturnType<typeof monitorEventLoopDelay>) => h.percentile(90),
  p99: (h: ReturnType<typeof monitorEventLoopDelay>) => h.percentile(99),
};

/** prom-client's event-loop lag gauges, same names, without the timer's interval in them. */
function registerEventLoopLag(registry: client.Registry): void {
  const loop = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  loop.enable();
  for (const [figure, read] of Object.entries(LAG_FIGURES)) {
    new client.Gauge({
      name: `nodejs_eventloop_lag_${figure}_seconds`,
      help: `The ${figure} of the event-loop delay since the last scrape, in seconds (the sampling interval taken off).`,
      registers: [registry],
      collect() {
        // No sample since the last scrape (two scrapes within one interval): no delay seen.
        const ns = loop.count > 0 ? read(loop) : Number.NaN;
        this.set(Number.isFinite(ns) ? Math.max(0, ns / 1e9 - LAG_RESOLUTION_MS / 1000) : 0);
      },
    });
  }
  new client.Gauge({
    name: 'nodejs_eventloop_lag_stddev_seconds',
    help: 'The standard deviation of the event-loop delay since the last scrape, in seconds.',
    registers: [registry],
    collect() {
      this.set(loop.count > 1 && Number.isFinite(loop.stddev) ? loop.stddev / 1e9 : 0);
      loop.reset(); // the last gauge collected: the next scrape starts a fresh window
    },
  });
}

/**
 * prom-client's `process_open_fds` lists /proc/self/fd synchronously at every scrape: with 200
 * scrapers connected that took 30 ms of the main thread, the longest stall of ingest in a scrape
 * storm (a CPU profile of exporter/load/hostileClients.test.ts). The same count, listed on libuv's
 * pool while the render waits for it.
 */
function registerOpenFds(registry: client.Registry): void {
  if (process.platform !== 'linux') return;
  registry.removeSingleMetric('process_open_fds');
  new client.Gauge({
    name: 'process_open_fds',
    help: 'Number of open file descriptors.',
    registers: [registry],
    async collect() {
      try {
        // Less the descriptor the listing itself held open, as prom-client counts.
        this.set((await readdir('/proc/self/fd')).length - 1);
      } catch {
        // No /proc: the gauge keeps its last value.
      }
    },
  });
}

function createProcessRegistries(): ProcessRegistries {
  const prometheus = new client.Registry();
  // prom-client's own lag monitor feeds only the gauges replaced below, yet its timer would wake the
  // loop every `eventLoopMonitoringPrecision` ms (1 of an idle exporter's 12 wakeups a second at
  // 1000): at the longest interval a timer takes, it never fires.
  client.collectDefaultMetrics({ register: prometheus, eventLoopMonitoringPrecision: 2 ** 31 - 1 });
  for (const name of MISNAMED) prometheus.removeSingleMetric(name);
  for (const figure of [...Object.keys(LAG_FIGURES), 'stddev'])
    prometheus.removeSingleMetric(`nodejs_eventloop_lag_${figure}_seconds`);
  registerEventLoopLag(prometheus);
  registerOpenFds(prometheus);
  const openmetrics = new client.Registry<client.OpenMetricsContentType>();
  openmetrics.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
  for (const { name } of prometheus.getMetricsAsArray()) {
    const metric = prometheus.getSingleMetric(name);
    if (metric) openmetrics.registerMetric(metric);
  }
  return { prometheus, openmetrics };
}

/**
 * The /metrics body: the family set rendered by hand, then prom-client's process metrics, unprefixed
 * (`process_*`, `nodejs_*`: a pod's scrape target is the exporter, and stock Node.js dashboards find
 * them), as one exposition. `beforeScrape` runs first (per-scrape caches reset there).
 */
export function createExposition(families: FamilySet, beforeScrape: () => void = () => {}) {
  const registries = createProcessRegistries();
  return async (format: ExpositionFormat): Promise<string | Uint8Array> => {
    beforeScrape();
    if (format === 'protobuf') {
      return encodeFamilies([...families.toProto(), ...processFamilies(await registries.prometheus.getMetricsAsJSON())]);
    }
    const out = families.render(format);
    const processText = await registries[format].metrics();
    if (format === 'openmetrics') return `${out}${processText.replace(/# EOF\n?$/, '')}# EOF\n`;
    return out + processText;
  };
}
