// What telemetry costs a request, both processes counted. Every comparison is one downloader process
// against itself (bench/switchedServer.ts), switching itself on and off every 100 ms through one wrk
// run: on this VM two processes of one build differ by more than the 3 % being measured, and runs
// of whole seconds of one process strayed by 10 %; alternating within one run, host drift cancels.
// Processes: socket with binary frames (its exporter on the downloader's core, a sidecar sharing its
// pod's CPU, then the same exporter moved to the other core), socket with NDJSON, the Redis stream
// (the Redis server's CPU counted too), an in-process prom-client middleware, and an A/A process whose
// on and off are the same code (the resolution of the method); then two parts of the socket's
// telemetry alone, no sidecar: the timed response with a recorder that keeps nothing, and the emitter
// encoding every event for a sink that takes each batch without a write. Off means the downloader's
// composition with EVENTS_TRANSPORT=off and its exporter stopped (the process SIGSTOPs it for each
// off phase and continues it for each on phase): no sidecar at all, and every microsecond the
// exporter spends, backlog included, falls in on phases. One more row keeps the same-core exporter
// running throughout (its CPU still all charged to on): the stopped rows pay for stopping and
// continuing it, the running one lets its work spill into off phases, so the two bracket the cost. Two workloads: `GET /health` (one event)
// and a cached small-page download (a request and a cache event). The downloader reads its own CPU
// (all threads) at each switch; the exporter's and Redis's (every thread, /proc/PID/task/<tid>/schedstat)
// over the whole run are charged to on, idle time in off phases included. Downloaders run on core 1,
// wrk on core 0. A ratio is on over off within one run; the table gives the median over the runs
// with their range. Throughput is requests per second of on phases over off phases.
// Beside the CPU: how often each exporter was woken during its runs and how many page faults it took
// (on a VM both trap, and either can be the larger part of the exporter's CPU), and what one wakeup
// of an idle process costs on this machine.
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
import { cpuOf, faultsOf, fmt, load, median, type Row, wakeupsOf } from './lib.ts';

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

interface Phase {
  cpu_us: number;
  requests: number;
  ms: number;
}

const post = async <T>(url: string): Promise<T> => {
  // A fresh connection each time: the downloader closes an idle kept-alive one while wrk runs.
  const res = await fetch(url, { method: 'POST', headers: { connection: 'close' } });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
};

/** One process under test and what "on" adds to it. */
interface Subject {
  name: string;
  downloader: Downloader;
  /** The sidecar: stopped while off, its CPU (and `extra`'s) counted while on. */
  exporter?: RunningProcess;
  extra?: () => number[];
  /** Where the exporter runs while on (default the downloader's core). */
  core?: string;
  /**
   * Keep the exporter running through off phases too (default: stopped for each). Its CPU still all
   * counts as on; what it does in off phases (the last on phase's batch, its timers) is then not
   * out of the off phases' way, while stopping and continuing it ten times a second wakes each of
   * its threads twice a cycle: the two rows bracket the cost from below and from above.
   */
  running?: boolean;
}

const ON_SAME = 'socket, binary, exporter on the same core';
const ON_OTHER = 'socket, binary, exporter on the other core';
const ON_RUNNING = 'socket, binary, exporter on the same core, never stopped';
const NDJSON = 'socket, NDJSON, exporter on the same core';
const REDIS = 'Redis stream, exporter on the same core';
const PROM = 'in-process prom-client middleware';
const AA = 'A/A: telemetry off, switched to itself';
const RECORDER = 'part: the timed response and a recorder that keeps nothing';
const EMITTER = 'part: the emitter, its batches taken by a null sink';
/** Each variant's target, where the issue sets one. */
const CPU_TARGET: Record<string, string> = { [ON_SAME]: '<= 1.03x', [ON_RUNNING]: '<= 1.03x', [ON_OTHER]: '<= 1.03x' };

interface Sample {
  /** Total CPU per request on (downloader + sidecars) and off, in microseconds. */
  on: number;
  off: number;
  /** The downloader's own CPU per request while on. */
  ownOn: number;
  /** Requests per second in on phases and off phases. */
  rpsOn: number;
  rpsOff: number;
  /** Non-2xx answers and socket errors wrk saw. */
  errors: number;
}

/** What an exporter did over a variant's runs: events its downloader emitted and dropped, its wakeups and page faults. */
interface Ledgers {
  emitted: number;
  dropped: number;
  wakeups: number;
  faults: number;
  /** Seconds it could run (on phases, and off phases when never stopped). */
  seconds: number;
}

/** Milliseconds each state lasts before the process switches to the other. */
const PHASE_MS = 100;

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
  const recorderOnly = await startDownloader({ BENCH_MODE: 'recorder' });
  const emitterOnly = await startDownloader({ BENCH_MODE: 'emitter' });
  const binaryExporter = await startExporter(binary, sockets[0]);
  const ndjsonExporter = await startExporter(ndjson, sockets[1]);
  const redisExporter = await startExporter(viaRedis, sockets[2], redisEnv);
  const exporters = [binaryExporter, ndjsonExporter, redisExporter];

  const subjects: Subject[] = [
    { name: ON_SAME, downloader: binary, exporter: binaryExporter },
    { name: ON_RUNNING, downloader: binary, exporter: binaryExporter, running: true },
    { name: ON_OTHER, downloader: binary, exporter: binaryExporter, core: '0' },
    { name: NDJSON, downloader: ndjson, exporter: ndjsonExporter },
    { name: REDIS, downloader: viaRedis, exporter: redisExporter, extra: () => [redis.pid as number] },
    { name: PROM, downloader: prom },
    { name: AA, downloader: aa },
    { name: RECORDER, downloader: recorderOnly },
    { name: EMITTER, downloader: emitterOnly },
  ];
  const workloads = [
    { name: 'GET /health', path: '/health' },
    { name: 'cached download', path: `/${origin.base}/page` },
  ];
  const samples = new Map<string, Sample[]>();
  const ledgers = new Map<string, Ledgers>();

  /** One wrk run of `seconds` with the process alternating on and off. */
  async function run(s: Subject, path: string, seconds: number): Promise<Sample> {
    const d = s.downloader;
    const admin = `http://127.0.0.1:${d.adminPort}/bench`;
    if (s.exporter) pin(s.exporter.pid, s.core ?? '1');
    const sidecarPids = [...(s.exporter ? [s.exporter.pid] : []), ...(s.extra?.() ?? [])];
    const ledger0 = s.exporter ? await ledgerOf(d) : undefined;
    const woken0 = s.exporter ? wakeupsOf(s.exporter.pid) : 0;
    const faults0 = s.exporter ? faultsOf(s.exporter.pid) : 0;
    if (s.running) s.exporter?.signal('SIGCONT');
    await post(`${admin}/alternate?ms=${PHASE_MS}&sidecars=${(!s.running && s.exporter?.pid) || ''}`);
    const sidecar0 = cpuOf(sidecarPids);
    const result = await load(`http://127.0.0.1:${d.port}${path}`, d.proc.pid, seconds);
    const phases = await post<{ on: Phase; off: Phase }>(`${admin}/settle`);
    if (s.exporter) {
      // The backlog of the last on phase acknowledged before the sidecar's CPU is read and it is stopped.
      await waitFor('backlog acknowledged', async () => (await ledgerOf(d)).buffered === 0 || undefined, 10_000);
    }
    const sidecar = cpuOf(sidecarPids) - sidecar0;
    if (s.exporter) s.exporter.signal('SIGSTOP');
    if (ledger0 && s.exporter) {
      const ledger1 = await ledgerOf(d);
      const sum = ledgers.get(s.name) ?? { emitted: 0, dropped: 0, wakeups: 0, faults: 0, seconds: 0 };
      sum.emitted += ledger1.emitted - ledger0.emitted;
      sum.dropped += ledger1.dropped - ledger0.dropped;
      sum.wakeups += wakeupsOf(s.exporter.pid) - woken0;
      sum.faults += faultsOf(s.exporter.pid) - faults0;
      // Seconds the exporter could run: on phases, and off phases too when it is never stopped.
      sum.seconds += (phases.on.ms + (s.running ? phases.off.ms : 0)) / 1000;
      ledgers.set(s.name, sum);
    }
    const ownOn = phases.on.cpu_us / phases.on.requests;
    return {
      on: ownOn + (sidecar * 1e6) / phases.on.requests,
      off: phases.off.cpu_us / phases.off.requests,
      ownOn,
      rpsOn: (phases.on.requests / phases.on.ms) * 1000,
      rpsOff: (phases.off.requests / phases.off.ms) * 1000,
      errors: result.errors,
    };
  }

  try {
    for (const s of subjects) {
      if (s.exporter) s.exporter.signal('SIGSTOP');
      // Warm-up, and the page into each downloader's cache.
      for (const w of workloads) await run(s, w.path, 2);
    }
    ledgers.clear();
    for (let r = 0; r < rounds; r++) {
      for (const s of r % 2 === 0 ? subjects : [...subjects].reverse()) {
        for (const w of workloads) {
          const key = `${w.name}|${s.name}`;
          samples.set(key, [...(samples.get(key) ?? []), await run(s, w.path, seconds)]);
        }
      }
    }
  } finally {
    for (const e of exporters) e.signal('SIGCONT');
    await Promise.all(
      [binary, ndjson, viaRedis, prom, aa, recorderOnly, emitterOnly]
        .map((d) => d.proc.stop())
        .concat(exporters.map((e) => e.stop())),
    );
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
  ledgers: Map<string, Ledgers>,
): Row[] {
  const rows: Row[] = [];
  for (const w of workloads) {
    const of = (s: Subject) => samples.get(`${w.name}|${s.name}`) ?? [];
    for (const s of subjects) {
      const xs = of(s);
      const failed = xs.reduce((sum, x) => sum + x.errors, 0);
      rows.push({
        benchmark: `total CPU per request, ${w.name}`,
        variant: s.name,
        value: `${median(xs.map((x) => x.on)).toFixed(2)} us (downloader ${median(xs.map((x) => x.ownOn)).toFixed(2)}) vs off ${median(xs.map((x) => x.off)).toFixed(2)} us${failed ? `, ${failed} errors` : ''}`,
        ratio: ratioOf(xs.map((x) => x.on / x.off)),
        target: CPU_TARGET[s.name] ?? (s.name === AA ? 'about 1.00x' : ''),
      });
    }
    for (const s of subjects) {
      const xs = of(s);
      rows.push({
        benchmark: `throughput, ${w.name}`,
        variant: s.name,
        value: `${fmt(median(xs.map((x) => x.rpsOn)))} vs off ${fmt(median(xs.map((x) => x.rpsOff)))} req/s`,
        ratio: ratioOf(xs.map((x) => x.rpsOn / x.rpsOff)),
        target: s.name === ON_SAME || s.name === ON_RUNNING ? '>= 0.97x' : '',
      });
    }
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
  for (const [name, l] of ledgers) {
    rows.push({
      benchmark: 'exporter page faults at full load',
      variant: name,
      value: `${fmt(l.faults / l.seconds)} a second`,
    });
  }
  return rows;
}

/** The median of per-round ratios, with their range: how far one round can stray. */
function ratioOf(ratios: number[]): string {
  const sorted = [...ratios].sort((a, b) => a - b);
  return `${median(ratios).toFixed(3)}x (${(sorted[0] ?? 0).toFixed(2)}-${(sorted.at(-1) ?? 0).toFixed(2)})`;
}
