// Event-to-visible delay: from a downloader response arriving at the client to the request being
// visible in the exporter's /metrics/performance, with both processes running as in production.
import { SystemUnderTest } from '@dl/testkit';
import { median, type Row } from './lib.ts';

export async function delayBench(samples: number): Promise<Row[]> {
  const sut = await new SystemUnderTest().start();
  const delays: number[] = [];
  try {
    let seen = 0;
    for (let i = 0; i < samples; i++) {
      await (await fetch(`${sut.base}/health`)).arrayBuffer();
      const t = performance.now();
      for (;;) {
        const perf = (await (await fetch(`${sut.metricsBase}/metrics/performance`)).json()) as { total_requests: number };
        if (perf.total_requests > seen) {
          seen = perf.total_requests;
          break;
        }
      }
      delays.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
    }
  } finally {
    await sut.stop();
  }
  const sorted = [...delays].sort((a, b) => a - b);
  return [
    {
      benchmark: 'event-to-visible delay',
      variant: `socket, ${samples} requests (median / p95 / max)`,
      value: `${median(delays).toFixed(1)} / ${(sorted[Math.floor(sorted.length * 0.95)] as number).toFixed(1)} / ${(sorted.at(-1) as number).toFixed(1)} ms`,
      target: '<= 100 ms',
    },
  ];
}
