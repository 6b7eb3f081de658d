// Redis stream transport: exporter ingest on one core (the stream is filled first, then a fresh
// exporter drains it, timed from its first count after start-up, so neither Redis write speed nor
// start-up is measured), and event-to-visible delay.
import { execFileSync } from 'node:child_process';
import { ExporterUnderTest, RedisServer, SystemUnderTest, sumSamples, waitFor } from '@dl/testkit';
import { Redis } from 'ioredis';
import { delayRow, measureDelays } from './delayBench.ts';
import { fmt, median, type Row } from './lib.ts';

const LINES_PER_ENTRY = 500;

function entry(seq: number): string {
  const endpoints = ['/health', '/{url}', '/batch', '/jobs/{job_id}/status', '/jobs/{job_id}/results'];
  let out = '';
  for (let i = 0; i < LINES_PER_ENTRY; i++) {
    const n = seq * LINES_PER_ENTRY + i;
    const d = Math.round(Math.exp(-3 + Math.sin(n) * 2) * 1e6) / 1e6;
    out += `{"v":1,"kind":"request","ts":${Date.now()},"endpoint":"${endpoints[n % 5]}","method":"GET","status":${n % 50 ? 200 : 500},"duration_s":${d}}\n`;
  }
  return out;
}

const pin = (pid: number | undefined, cpu: string) => {
  try {
    if (pid) execFileSync('taskset', ['-a', '-p', '-c', cpu, String(pid)], { stdio: 'ignore' });
  } catch {}
};

async function ingestOnce(redis: RedisServer, events: number): Promise<number> {
  const stream = `ingest-${Math.random().toString(36).slice(2)}`;
  const client = new Redis(redis.url);
  const entries = Math.ceil(events / LINES_PER_ENTRY);
  for (let i = 0; i < entries; i += 100) {
    const p = client.pipeline();
    for (let k = i; k < Math.min(entries, i + 100); k++) p.xadd(stream, '*', 'n', LINES_PER_ENTRY, 'e', entry(k));
    await p.exec();
  }
  client.disconnect();
  const total = entries * LINES_PER_ENTRY;
  const exp = await new ExporterUnderTest({ EVENTS_TRANSPORT: 'redis', REDIS_URL: redis.url, EVENTS_STREAM: stream }).start();
  pin(exp.process.pid, '1');
  const received = async () => sumSamples(await exp.metrics(), 'exporter_events_received_total', { transport: 'redis' });
  try {
    // The drain rate once it runs: from the first count read after start-up to the last event.
    const n0 = await received();
    const t0 = performance.now();
    await waitFor('stream drained', async () => ((await received()) >= total ? true : undefined), 120_000);
    return (total - n0) / ((performance.now() - t0) / 1000);
  } finally {
    await exp.stop();
  }
}

export async function redisBench(rounds: number, events: number): Promise<Row[]> {
  const redis = await new RedisServer().start();
  pin(redis.pid, '0');
  const rates: number[] = [];
  const delays: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) rates.push(await ingestOnce(redis, events));
    const env = { EVENTS_TRANSPORT: 'redis', REDIS_URL: redis.url, EVENTS_STREAM: 'delay' };
    const sut = await new SystemUnderTest(env, env).start();
    try {
      delays.push(...(await measureDelays(sut, 100)));
    } finally {
      await sut.stop();
    }
  } finally {
    await redis.stop();
  }
  return [
    {
      benchmark: 'exporter ingest, one core',
      variant: `Redis stream, ${fmt(events / 1e6, 1)} M events drained by a fresh exporter`,
      value: `${fmt(median(rates))} events/s`,
      target: '>= 500,000',
    },
    delayRow('Redis stream', delays),
  ];
}
