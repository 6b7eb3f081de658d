import { constants, monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import type { DownloaderStats } from '@dl/shared';

export type ProcessFigures = DownloaderStats['process'];

/**
 * The event-loop delay timer's interval: each sample is the interval plus the delay, so it is taken
 * off. 100 ms, as the exporter's own: 10 wakeups a second instead of 100 (an idle downloader spent
 * 10 ms of CPU a second on them), and a stall shorter than it is still seen in proportion.
 */
const RESOLUTION_MS = 100;
type GcKind = 'minor' | 'major' | 'incremental' | 'weakcb';
const GC_KINDS: Record<number, GcKind> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/**
 * Samples this process for the stats poll: CPU, memory, heap, event-loop delay and utilisation
 * since the last sample, and garbage collections (count and time per kind) since start.
 */
export function createProcessSampler(): { sample(): ProcessFigures; stop(): void } {
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  loop.enable();
  let elu = performance.eventLoopUtilization();
  const gc: Record<GcKind, { runs: number; seconds: number }> = {
    minor: { runs: 0, seconds: 0 },
    major: { runs: 0, seconds: 0 },
    incremental: { runs: 0, seconds: 0 },
    weakcb: { runs: 0, seconds: 0 },
  };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as { detail?: { kind?: number } }).detail?.kind ?? 0];
      if (!kind) continue;
      gc[kind].runs++;
      gc[kind].seconds += entry.duration / 1000;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const lag = (ns: number) => (Number.isNaN(ns) ? 0 : Math.max(0, ns / 1e9 - RESOLUTION_MS / 1000));
  return {
    sample() {
      const cpu = process.cpuUsage();
      const mem = process.memoryUsage();
      const now = performance.eventLoopUtilization();
      const figures: ProcessFigures = {
        cpu_seconds_total: (cpu.user + cpu.system) / 1e6,
        resident_memory_bytes: mem.rss,
        heap_used_bytes: mem.heapUsed,
        heap_total_bytes: mem.heapTotal,
        external_memory_bytes: mem.external,
        event_loop_lag_seconds: lag(loop.mean),
        event_loop_lag_p99_seconds: lag(loop.percentile(99)),
        event_loop_utilization: performance.eventLoopUtilization(now, elu).utilization,
        active_resources: process.getActiveResourcesInfo().length,
        gc: structuredClone(gc),
      };
      elu = now;
      loop.reset();
      return figures;
    },
    stop: () => {
      loop.disable();
      observer.disconnect();
    },
  };
}
