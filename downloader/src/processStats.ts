import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface ProcessFigures {
  cpu_seconds_total: number;
  resident_memory_bytes: number;
  heap_used_bytes: number;
  event_loop_lag_seconds: number;
  event_loop_lag_p99_seconds: number;
}

/** Samples this process: CPU, memory and event-loop delay (mean and p99 since the last sample). */
export function createProcessSampler(): { sample(): ProcessFigures; stop(): void } {
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  return {
    sample() {
      const cpu = process.cpuUsage();
      const mem = process.memoryUsage();
      const figures = {
        cpu_seconds_total: (cpu.user + cpu.system) / 1e6,
        resident_memory_bytes: mem.rss,
        heap_used_bytes: mem.heapUsed,
        event_loop_lag_seconds: Number.isNaN(loop.mean) ? 0 : loop.mean / 1e9,
        event_loop_lag_p99_seconds: loop.percentile(99) / 1e9,
      };
      loop.reset();
      return figures;
    },
    stop: () => loop.disable(),
  };
}
