// Exporter benchmarks: ingest rate on one core (fed by a separate writer process), RSS after
// 10 M events plus the cardinality flood.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { ExporterUnderTest, repoRoot, sumSamples } from '@dl/testkit';
import { cpuSeconds, fmt, median, type Row } from './lib.ts';

const run = promisify(execFile);

async function writer(socket: string, ...args: string[]): Promise<Record<string, number>> {
  const { stdout } = await run(
    'taskset',
    ['-c', '0', process.execPath, '--import', 'tsx', 'bench/ingestWriter.ts', socket, ...args],
    {
      cwd: repoRoot,
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) as string);
}

async function pinnedExporter(env: Record<string, string> = {}): Promise<ExporterUnderTest> {
  const exp = await new ExporterUnderTest(env).start();
  await run('taskset', ['-a', '-p', '-c', '1', String(exp.process.pid)]).catch(() => {});
  return exp;
}

export async function ingestBench(rounds: number, seconds: number): Promise<Row[]> {
  const rates: Record<string, number[]> = { binary: [], request: [], upstream: [] };
  for (let r = 0; r < rounds; r++) {
    for (const kind of ['binary', 'request', 'upstream'] as const) {
      const exp = await pinnedExporter();
      try {
        rates[kind]?.push((await writer(exp.socketPath, 'rate', String(seconds), kind)).eventsPerSecond as number);
      } finally {
        await exp.stop();
      }
    }
  }
  return [
    {
      benchmark: 'exporter ingest, one core',
      variant: 'request events, binary frames (the emitter default)',
      value: `${fmt(median(rates.binary ?? []))} events/s`,
      target: '>= 1,000,000',
    },
    {
      benchmark: 'exporter ingest, one core',
      variant: 'request events, NDJSON (exact byte-level reader)',
      value: `${fmt(median(rates.request ?? []))} events/s`,
    },
    {
      benchmark: 'exporter ingest, one core',
      variant: 'other events (JSON.parse + zod)',
      value: `${fmt(median(rates.upstream ?? []))} events/s`,
    },
  ];
}

/**
 * The exporter's CPU per event in place: request events at a steady rate, a batch every 50 ms as the
 * downloader's emitter writes them, the exporter alone on core 1 and the writer on core 0. At full
 * speed an event costs a quarter of what it costs here, woken for each batch with cold caches:
 * this is the figure a request pays.
 */
export async function steadyBench(rounds: number, seconds: number, rate = 25_000): Promise<Row[]> {
  const perEvent: Record<'binary' | 'request', number[]> = { binary: [], request: [] };
  for (let r = 0; r < rounds; r++) {
    for (const kind of ['binary', 'request'] as const) {
      const exp = await pinnedExporter();
      try {
        const w = spawn(
          'taskset',
          [
            '-c',
            '0',
            process.execPath,
            '--import',
            'tsx',
            'bench/ingestWriter.ts',
            exp.socketPath,
            'steady',
            String(seconds),
            kind,
            String(rate),
          ],
          { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let out = '';
        let cpu0 = 0;
        const events = await new Promise<number>((resolve, reject) => {
          w.stdout.on('data', (d: Buffer) => {
            out += d;
            if (!cpu0 && out.includes('"phase":"measure"')) cpu0 = cpuSeconds(exp.process.pid);
          });
          w.once('exit', (code) => {
            const last = JSON.parse(out.trim().split('\n').at(-1) as string) as { events?: number };
            if (code !== 0 || !last.events) reject(new Error(`steady writer: exit ${code}, ${out}`));
            else resolve(last.events);
          });
        });
        perEvent[kind].push(((cpuSeconds(exp.process.pid) - cpu0) / events) * 1e6);
      } finally {
        await exp.stop();
      }
    }
  }
  const variant = (what: string) => `${what}, ${fmt(rate)} events/s in batches every 50 ms (median of ${rounds} x ${seconds} s)`;
  return [
    {
      benchmark: 'exporter CPU per event, in place',
      variant: variant('binary frames'),
      value: `${fmt(median(perEvent.binary), 2)} us`,
    },
    {
      benchmark: 'exporter CPU per event, in place',
      variant: variant('NDJSON'),
      value: `${fmt(median(perEvent.request), 2)} us`,
    },
  ];
}

export async function memoryBench(events: number): Promise<Row[]> {
  const exp = await pinnedExporter({ SERIES_LIMIT: '1000' });
  try {
    const rss = async () => sumSamples(await exp.metrics(), 'process_resident_memory_bytes') / 2 ** 20;
    const idle = await rss();
    const t = await writer(exp.socketPath, 'count', String(events), 'request');
    const afterEvents = await rss();
    await writer(exp.socketPath, 'count', '100000', 'flood');
    const afterFlood = await rss();
    const m = await exp.metrics();
    const counted = sumSamples(m, 'downloader_requests_total');
    if (counted !== events + 100_000) throw new Error(`memory bench: counted ${counted}, sent ${events + 100_000}`);
    return [
      {
        benchmark: 'exporter RSS',
        variant: `idle / after ${fmt(events / 1e6, 0)} M events / after 100k-endpoint flood`,
        value: `${fmt(idle)} / ${fmt(afterEvents)} / ${fmt(afterFlood)} MiB`,
        target: '<= 100 MiB',
      },
      {
        benchmark: 'exporter ingest, sustained',
        variant: `${fmt(events / 1e6, 0)} M events, all counted`,
        value: `${fmt(events / (t.seconds as number))} events/s`,
      },
    ];
  } finally {
    await exp.stop();
  }
}
