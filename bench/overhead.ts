// What telemetry costs a request, both processes counted. Every comparison is one downloader process
// against itself (bench/switchedServer.ts, switched on and off between runs): on this VM two
// processes of one build differ by more than the 3 % being measured, one process over time does not.
// Processes: socket with binary frames (its exporter on the downloader's core, a sidecar sharing its
// pod's CPU, then the same exporter moved to the other core), socket with NDJSON, the Redis stream
// (the Redis server's CPU counted too), an in-process prom-client middleware, and an A/A process whose
// on and off are the same code (the resolution of the method). Off means the downloader's
// composition with EVENTS_TRANSPORT=off and its exporter stopped (SIGSTOP): no sidecar at all.
// Two workloads: `GET /health` (one event) and a cached small-page download (a request and a cache
// event). CPU is every thread of every process involved (/proc/PID/task/<tid>/schedstat). Downloaders
// run on core 1, wrk on core 0. Each round measures every process off and on, in ABBA order
// (off-on, then on-off), each run after an unmeasured second; a ratio is on over off of the same
// process in the same round, and the table gives the median over rounds.
// Beside the CPU: how often each exporter was woken during its runs, and what one wakeup of an idle
// process costs on this machine (on a VM that traps every switch, the larger part of the exporter's).
import { execFileSync, spawn } from 'node:child_process';
import {
  freePort,
  getJson,
  Origin,
  privateSocketPath,
  RedisServer,
  type RunningProcess,
  removeSocketDir,
  startService,
  startTs,
  waitFor,
} from '@dl/testkit';
import { cpuOf, fmt, type LoadResult, load, median, type Row, wakeupsOf } from './lib.ts';

const PAGE = `<!doctype html><html><head><title>Small</title></head><body><p>${'A short paragraph. '.repeat(20)}</p></body></html>`;

function pin(pid: number, cpu: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpu, String(pid)], { stdio: 'ignore' });
  } catch {
    // taskset missing: unpinned, still side by side.
  }
}

interface Downloader {
  proc: RunningProcess;
  port: number;
  adminPort: number;
}

async function startDownloader(env: Record<string, string>): Promise<Downloader> {
  const port = await freePort();
  const adminPort = await freePort();
  // Access lines off (LOG_LEVEL=warn): this measures telemetry, not logging.
  const proc = startTs('bench/switchedServer.ts', {
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_PORT: String(adminPort),
    LOG_LEVEL: 'warn',
    DOWNLOADER_ALLOW_PRIVATE: '1',
    ...env,
  });
  await waitFor(`server on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok || undefined, 30_000);
  pin(proc.pid, '1');
  return { proc, port, adminPort };
}

async function startExporter(d: Downloader, socket: string, env: Record<string, string> = {}): Promise<RunningProcess> {
  const port = await freePort();
  const exporter = startService('exporter', {
    EXPORTER_PORT: String(port),
    EVENTS_SOCKET: socket,
    DOWNLOADER_STATS_URL: `http://127.0.0.1:${d.adminPort}/internal/stats`,
    ...env,
  });
  await waitFor('exporter', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok || undefined, 20_000);
  pin(exporter.pid, '1');
  return exporter;
}

type Ledger = { emitted: number; dropped: number; buffered: number };
const ledgerOf = async (d: Downloader) =>
  (await getJson<{ telemetry: Ledger }>(`http://127.0.0.1:${d.adminPort}/internal/stats`)).telemetry;

async function setSwitch(d: Downloader, state: 'on' | 'off'): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${d.adminPort}/bench/${state}`, { method: 'POST' });
  if (!res.ok) throw new Error(`switch ${state}: ${res.status}`);
}

/** One process under test and what "on" adds to it. */
interface Subject {
  name: string;
  downloader: Downloader;
  /** The sidecar: stopped while off, its CPU (and `extra`'s) counted while on. */
  exporter?: RunningProcess;
  extra?: () => number[];
  /** Where the exporter runs while on (default the downloader's core). */
  core?: string;
}

const ON_SAME = 'socket, binary, exporter on the same core';
const ON_OTHER = 'socket, binary, exporter on the other core';
const NDJSON = 'socket, NDJSON, exporter on the same core';
const REDIS = 'Redis stream, exporter on the same core';
const PROM = 'in-process prom-client middleware';
const AA = 'A/A: telemetry off, switched to itself';
/** Each variant's target, where the issue sets one. */
const CPU_TARGET: Record<string, string> = { [ON_SAME]: '<= 1.03x', [ON_OTHER]: '<= 1.03x' };

interface Sample {
  off: LoadResult;
  on: LoadResult;
  /** The downloader's own CPU per request while on, in microseconds. */
  ownOn: number;
}

export async function overheadBench(rounds: number, seconds: number): Promise<Row[]> {
  const origin = await new Origin().start();
  origin.static('/page', 'text/html; charset=utf-8', PAGE);
  const sockets = [privateSocketPath('bench-b'), privateSocketPath('bench-n'), privateSocketPath('bench-r')] as const;
  const redis = await new RedisServer().start();
  pin(redis.pid as number, '1');
  const redisEnv = { EVENTS_TRANSPORT: 'redis', REDIS_URL: redis.url, EVENTS_STREAM: 'bench:events' };
  const binary = await startDownloader({ EVENTS_SOCKET: sockets[0] });
  const ndjson = await startDownloader({ EVENTS_SOCKET: sockets[1], EVENTS_ENCODING: 'ndjson' });
  const viaRedis = await startDownloader(redisEnv);
  const prom = await startDownloader({ BENCH_MODE: 'prom' });
  const aa = await startDownloader({ BENCH_MODE: 'none' });
  const binaryExporter = await startExporter(binary, sockets[0]);
  const ndjsonExporter = await startExporter(ndjson, sockets[1]);
  const redisExporter = await startExporter(viaRedis, sockets[2], redisEnv);
  const exporters = [binaryExporter, ndjsonExporter, redisExporter];

  const subjects: Subject[] = [
    { name: ON_SAME, downloader: binary, exporter: binaryExporter },
    { name: ON_OTHER, downloader: binary, exporter: binaryExporter, core: '0' },
    { name: NDJSON, downloader: ndjson, exporter: ndjsonExporter },
    { name: REDIS, downloader: viaRedis, exporter: redisExporter, extra: () => [redis.pid as number] },
    { name: PROM, downloader: prom },
    { name: AA, downloader: aa },
  ];
  const workloads = [
    { name: 'GET /health', path: '/health' },
    { name: 'cached download', path: `/${origin.base}/page` },
  ];
  const samples = new Map<string, Sample[]>();
  const ledgers = new Map<string, { emitted: number; dropped: number; wakeups: number; seconds: number }>();

  async function run(s: Subject, state: 'on' | 'off', path: string): Promise<{ result: LoadResult; own: number }> {
    const d = s.downloader;
    if (state === 'on' && s.exporter) {
      pin(s.exporter.pid, s.core ?? '1');
      s.exporter.signal('SIGCONT');
    }
    await setSwitch(d, state);
    const url = `http://127.0.0.1:${d.port}${path}`;
    // One unmeasured second: the first moments after a switch or another process's run are slower.
    await load(url, d.proc.pid, 1);
    const pids = state === 'on' ? [d.proc.pid, ...(s.exporter ? [s.exporter.pid] : []), ...(s.extra?.() ?? [])] : [d.proc.pid];
    const ledger0 = state === 'on' && s.exporter ? await ledgerOf(d) : undefined;
    const own0 = cpuOf([d.proc.pid]);
    const woken0 = s.exporter ? wakeupsOf(s.exporter.pid) : 0;
    const result = await load(url, pids, seconds);
    const own = ((cpuOf([d.proc.pid]) - own0) / result.requests) * 1e6;
    if (ledger0 && s.exporter) {
      const woken = wakeupsOf(s.exporter.pid) - woken0;
      const ledger1 = await ledgerOf(d);
      const sum = ledgers.get(s.name) ?? { emitted: 0, dropped: 0, wakeups: 0, seconds: 0 };
      sum.emitted += ledger1.emitted - ledger0.emitted;
      sum.dropped += ledger1.dropped - ledger0.dropped;
      sum.wakeups += woken;
      sum.seconds += seconds;
      ledgers.set(s.name, sum);
    }
    if (state === 'on') {
      await setSwitch(d, 'off');
      if (s.exporter) {
        // Every event of the run acknowledged before the sidecar is stopped: nothing left to count later.
        await waitFor('backlog acknowledged', async () => (await ledgerOf(d)).buffered === 0 || undefined, 10_000);
        s.exporter.signal('SIGSTOP');
      }
    }
    return { result, own };
  }

  try {
    for (const s of subjects) {
      if (s.exporter) s.exporter.signal('SIGSTOP');
      // Warm-up, and the page into each downloader's cache.
      for (const w of workloads) {
        await run(s, 'on', w.path);
        await run(s, 'off', w.path);
      }
    }
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
      for (const s of r % 2 === 0 ? subjects : [...subjects].reverse()) {
        for (const w of workloads) {
          const got: Partial<Record<'on' | 'off', { result: LoadResult; own: number }>> = {};
          for (const state of order) got[state] = await run(s, state, w.path);
          const key = `${w.name}|${s.name}`;
          const on = got.on as { result: LoadResult; own: number };
          samples.set(key, [
            ...(samples.get(key) ?? []),
            { off: (got.off as { result: LoadResult }).result, on: on.result, ownOn: on.own },
          ]);
        }
      }
    }
  } finally {
    for (const e of exporters) e.signal('SIGCONT');
    await Promise.all([binary, ndjson, viaRedis, prom, aa].map((d) => d.proc.stop()).concat(exporters.map((e) => e.stop())));
    await redis.stop();
    await origin.stop();
    for (const s of sockets) removeSocketDir(s);
  }
  return [...rowsFrom(subjects, workloads, samples, ledgers), await wakeupCost()];
}

/**
 * What one wakeup costs on this machine: an idle Node process whose only work is a 10 ms timer, its
 * CPU over its wakeups. On bare metal a few microseconds; on a VM that traps every switch, far more,
 * and then an exporter's cost is mostly how often it is woken.
 */
async function wakeupCost(): Promise<Row> {
  const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 10)'], { stdio: 'ignore' });
  const pid = idle.pid as number;
  try {
    pin(pid, '1');
    await new Promise((r) => setTimeout(r, 1_000));
    const cpu0 = cpuOf([pid]);
    const woken0 = wakeupsOf(pid);
    await new Promise((r) => setTimeout(r, 3_000));
    const us = ((cpuOf([pid]) - cpu0) / (wakeupsOf(pid) - woken0)) * 1e6;
    return {
      benchmark: 'CPU per wakeup of an idle process',
      variant: 'Node, a 10 ms timer that does nothing',
      value: `${us.toFixed(1)} us`,
    };
  } finally {
    idle.kill();
  }
}

function rowsFrom(
  subjects: Subject[],
  workloads: { name: string }[],
  samples: Map<string, Sample[]>,
  ledgers: Map<string, { emitted: number; dropped: number; wakeups: number; seconds: number }>,
): Row[] {
  const rows: Row[] = [];
  for (const w of workloads) {
    const of = (s: Subject) => samples.get(`${w.name}|${s.name}`) ?? [];
    for (const s of subjects) {
      const xs = of(s);
      const errors = xs.reduce((a, x) => a + x.on.errors + x.off.errors, 0);
      rows.push({
        benchmark: `total CPU per request, ${w.name}`,
        variant: s.name,
        value: `${median(xs.map((x) => x.on.cpuUsPerRequest)).toFixed(1)} us (downloader ${median(xs.map((x) => x.ownOn)).toFixed(1)}) vs off ${median(xs.map((x) => x.off.cpuUsPerRequest)).toFixed(1)} us${errors ? `, ${errors} errors` : ''}`,
        ratio: ratioOf(xs.map((x) => x.on.cpuUsPerRequest / x.off.cpuUsPerRequest)),
        target: CPU_TARGET[s.name] ?? (s.name === AA ? 'about 1.00x' : ''),
      });
    }
    for (const s of subjects) {
      const xs = of(s);
      rows.push({
        benchmark: `throughput, ${w.name}`,
        variant: s.name,
        value: `${fmt(median(xs.map((x) => x.on.rps)))} vs off ${fmt(median(xs.map((x) => x.off.rps)))} req/s`,
        ratio: ratioOf(xs.map((x) => x.on.rps / x.off.rps)),
        target: s.name === ON_SAME ? '>= 0.97x' : '',
      });
    }
    const same = of(subjects[0] as Subject);
    rows.push({
      benchmark: `p99 latency, ${w.name}`,
      variant: ON_SAME,
      value: `${median(same.map((x) => x.on.p99Ms)).toFixed(2)} vs off ${median(same.map((x) => x.off.p99Ms)).toFixed(2)} ms`,
      ratio: ratioOf(same.map((x) => x.on.p99Ms / x.off.p99Ms)),
      target: '<= 1.1x',
    });
  }
  for (const [name, l] of ledgers) {
    rows.push({
      benchmark: 'events dropped at full load',
      variant: name,
      value: `${fmt(l.dropped)} of ${fmt(l.emitted)}`,
      target: '0',
    });
  }
  for (const [name, l] of ledgers) {
    rows.push({
      benchmark: 'exporter wakeups at full load (all threads)',
      variant: name,
      value: `${fmt(l.wakeups / l.seconds)} a second, ${fmt(l.emitted / l.wakeups)} events each`,
    });
  }
  return rows;
}

/** The median of per-round ratios, with their range: how far one round can stray. */
function ratioOf(ratios: number[]): string {
  const sorted = [...ratios].sort((a, b) => a - b);
  return `${median(ratios).toFixed(3)}x (${(sorted[0] ?? 0).toFixed(2)}-${(sorted.at(-1) ?? 0).toFixed(2)})`;
}
