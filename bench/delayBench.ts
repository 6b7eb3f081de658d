// Event-to-visible delay: from a downloader response arriving at the client to the request being
// visible in the exporter's /metrics/performance, with both processes running as in production.
import { SystemUnderTest } from '@dl/testkit';
import { median, type Row } from './lib.ts';

/** Milliseconds from each of `samples` responses to its request being visible; requests spaced 10-30 ms. */
export async function measureDelays(sut: SystemUnderTest, samples: number): Promise<number[]> {
  const delays: number[] = [];
  let seen = (await sut.json<{ total_requests: number }>('/metrics/performance')).total_requests;
  for (let i = 0; i < samples; i++) {
    await (await fetch(`${sut.base}/health`)).arrayBuffer();
    const t = performance.now();
    for (;;) {
      const perf = await sut.json<{ total_requests: number }>('/metrics/performance');
      if (perf.total_requests > seen) {
        seen = perf.total_requests;
        break;
      }
    }
    delays.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
  }
  return delays;
}

export function delayRow(variant: string, delays: number[]): Row {
  const sorted = [...delays].sort((a, b) => a - b);
  const p95 = sorted[Math.floor(sorted.length * 0.95)] as number;
  return {
    benchmark: 'event-to-visible delay',
    variant: `${variant}, ${delays.length} requests (median / p95 / max)`,
    value: `${median(delays).toFixed(1)} / ${p95.toFixed(1)} / ${(sorted.at(-1) as number).toFixed(1)} ms`,
    target: '<= 100 ms',
  };
}

export async function delayBench(samples: number): Promise<Row[]> {
  const sut = await new SystemUnderTest().start();
  try {
    return [delayRow('socket', await measureDelays(sut, samples))];
  } finally {
    await sut.stop();
  }
}
