// What telemetry costs a request, both processes counted. Two workloads (`GET /health` and a cached
// small-page download, which emits a request and a cache event) against: telemetry off (two
// processes: their A/A ratio is the spread between processes of the same build); the socket with
// binary frames, the exporter on the downloader's core (a sidecar sharing its pod's CPU) and then,
// the same two processes, the exporter moved to the other core; the socket with NDJSON; the Redis
// stream (the Redis server's CPU counted too); and an in-process prom-client middleware instead.
// Each socket downloader is also measured with its exporter frozen and its buffer full, where its
// telemetry is reduced to a counted drop: the same process's baseline, free of that spread.
// CPU is every thread of every process involved (/proc/PID/task/<tid>/schedstat). Downloaders run on
// core 1, wrk on core 0; variants alternate round by round so drift on this noisy machine hits them
// all alike. Each exporter polls its own downloader.
import { execFileSync } from 'node:child_process';
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
import { cpuOf, fmt, type LoadResult, load, median, type Row } from './lib.ts';

const OFF = 'telemetry off';
const OFF_B = 'telemetry off, a second process (A/A)';
const BINARY = 'socket, binary, exporter on the same core';
const MOVED = 'socket, binary, exporter on the other core';
const BINARY_FROZEN = 'socket, binary, exporter frozen, buffer full';
const NDJSON = 'socket, NDJSON, exporter on the same core';
const NDJSON_FROZEN = 'socket, NDJSON, exporter frozen, buffer full';
const REDIS = 'Redis stream, exporter on the same core';
const PROM = 'in-process prom-client middleware';
const TELEMETRY = [BINARY, MOVED, NDJSON, REDIS];
/** Each variant's same-process baseline. */
const BASELINE: Record<string, string> = { [BINARY]: BINARY_FROZEN, [MOVED]: BINARY_FROZEN, [NDJSON]: NDJSON_FROZEN };

const PAGE = `<!doctype html><html><head><title>Small</title></head><body><p>${'A short paragraph. '.repeat(20)}</p></body></html>`;

interface Server {
  proc: RunningProcess;
  port: number;
  adminPort: number;
}

interface Variant {
  name: string;
  server: Server;
  /** Processes whose CPU is the cost of this variant besides the downloader's. */
  others: RunningProcess[] | (() => number[]);
  before?: () => void;
  after?: () => void;
  /** Frozen variants: the exporter must drain their backlog after the run. */
  fill?: boolean;
  /** Workloads this variant serves (default all). */
  only?: string;
}

function pin(pid: number, cpu: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpu, String(pid)], { stdio: 'ignore' });
  } catch {
    // taskset missing: unpinned, still side by side.
  }
}

type Starter = (env: Record<string, string>) => RunningProcess;
const downloader: Starter = (env) => startService('downloader', env);
const inProcess: Starter = (env) => startTs('bench/inprocessServer.ts', env);

async function startServer(start: Starter, env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const adminPort = await freePort();
  // Access lines off (LOG_LEVEL=warn) in every variant: this measures telemetry, not logging.
  const proc = start({
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_PORT: String(adminPort),
    LOG_LEVEL: 'warn',
    DOWNLOADER_ALLOW_PRIVATE: '1',
    ...env,
  });
  await waitFor(`server on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok || undefined, 20_000);
  pin(proc.pid, '1');
  return { proc, port, adminPort };
}

async function startExporter(server: Server, socket: string, env: Record<string, string> = {}): Promise<RunningProcess> {
  const port = await freePort();
  const exporter = startService('exporter', {
    EXPORTER_PORT: String(port),
    EVENTS_SOCKET: socket,
    DOWNLOADER_STATS_URL: `http://127.0.0.1:${server.adminPort}/internal/stats`,
    ...env,
  });
  await waitFor('exporter', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok || undefined, 20_000);
  pin(exporter.pid, '1');
  return exporter;
}

const ledgerOf = async (server: Server) =>
  (await getJson<{ telemetry: { emitted: number; dropped: number } }>(`http://127.0.0.1:${server.adminPort}/internal/stats`))
    .telemetry;

const pidsOf = (v: Variant) => [v.server.proc.pid, ...(typeof v.others === 'function' ? v.others() : v.others.map((p) => p.pid))];

export async function overheadBench(rounds: number, seconds: number): Promise<Row[]> {
  const origin = await new Origin().start();
  origin.static('/page', 'text/html; charset=utf-8', PAGE);
  const sockets = [privateSocketPath('bench-a'), privateSocketPath('bench-b'), privateSocketPath('bench-f')] as const;
  const redis = await new RedisServer().start();
  pin(redis.pid as number, '1');
  const redisEnv = { EVENTS_TRANSPORT: 'redis', REDIS_URL: redis.url, EVENTS_STREAM: 'bench:events' };
  const off = await startServer(downloader, { EVENTS_TRANSPORT: 'off' });
  const binary = await startServer(downloader, { EVENTS_SOCKET: sockets[0] });
  const ndjson = await startServer(downloader, { EVENTS_SOCKET: sockets[1], EVENTS_ENCODING: 'ndjson' });
  const viaRedis = await startServer(downloader, redisEnv);
  const offB = await startServer(downloader, { EVENTS_TRANSPORT: 'off' });
  const prom = await startServer(inProcess, {});
  const binaryExporter = await startExporter(binary, sockets[0]);
  const ndjsonExporter = await startExporter(ndjson, sockets[1]);
  const redisExporter = await startExporter(viaRedis, privateSocketPath('bench-r'), redisEnv);

  const variants: Variant[] = [
    { name: OFF, server: off, others: [] },
    { name: OFF_B, server: offB, others: [] },
    { name: BINARY, server: binary, others: [binaryExporter] },
    {
      name: MOVED,
      server: binary,
      others: [binaryExporter],
      before: () => pin(binaryExporter.pid, '0'),
      after: () => pin(binaryExporter.pid, '1'),
    },
    { name: NDJSON, server: ndjson, others: [ndjsonExporter] },
    { name: REDIS, server: viaRedis, others: () => [redisExporter.pid, redis.pid as number] },
    {
      name: BINARY_FROZEN,
      server: binary,
      others: [],
      before: () => binaryExporter.signal('SIGSTOP'),
      after: () => binaryExporter.signal('SIGCONT'),
      fill: true,
    },
    {
      name: NDJSON_FROZEN,
      server: ndjson,
      others: [],
      before: () => ndjsonExporter.signal('SIGSTOP'),
      after: () => ndjsonExporter.signal('SIGCONT'),
      fill: true,
    },
    // Built on the app without the downloader's cache wiring: /health only.
    { name: PROM, server: prom, others: [], only: 'GET /health' },
  ];
  const workloads = [
    { name: 'GET /health', path: () => '/health' },
    { name: 'cached download', path: () => `/${origin.base}/page` },
  ];
  const results = new Map<string, LoadResult[]>();
  const downloaderUs = new Map<string, number[]>();
  /** Events emitted and dropped during each telemetry variant's measured runs. */
  const ledgers: Record<string, { emitted: number; dropped: number }> = {};
  try {
    for (const v of variants) {
      // Warm-up, and the page into each downloader's cache.
      for (const w of workloads)
        if (!v.only || v.only === w.name) await load(`http://127.0.0.1:${v.server.port}${w.path()}`, v.server.proc.pid, 3);
    }
    for (let r = 0; r < rounds; r++) {
      for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
        for (const w of workloads) {
          if (v.only && v.only !== w.name) continue;
          v.before?.();
          // One unmeasured second for every variant: a process's first moments after another's run are
          // slower (caches, JIT), and the frozen variants need it anyway to fill their buffer.
          await load(`http://127.0.0.1:${v.server.port}${w.path()}`, v.server.proc.pid, 1);
          const pids = pidsOf(v);
          const watched = TELEMETRY.includes(v.name);
          const ledger0 = watched ? await ledgerOf(v.server) : undefined;
          const own0 = cpuOf([v.server.proc.pid]);
          const result = await load(`http://127.0.0.1:${v.server.port}${w.path()}`, pids, seconds);
          const own = cpuOf([v.server.proc.pid]) - own0;
          if (ledger0) {
            const ledger1 = await ledgerOf(v.server);
            const sum = ledgers[v.name] ?? { emitted: 0, dropped: 0 };
            sum.emitted += ledger1.emitted - ledger0.emitted;
            sum.dropped += ledger1.dropped - ledger0.dropped;
            ledgers[v.name] = sum;
          }
          v.after?.();
          const key = `${w.name}|${v.name}`;
          results.set(key, [...(results.get(key) ?? []), result]);
          downloaderUs.set(key, [...(downloaderUs.get(key) ?? []), (own / result.requests) * 1e6]);
          // Let a thawed exporter drain its backlog before the next variant is measured.
          if (v.fill) await new Promise((res) => setTimeout(res, 1000));
        }
      }
    }
  } finally {
    binaryExporter.signal('SIGCONT');
    ndjsonExporter.signal('SIGCONT');
    await Promise.all(
      [off, offB, binary, ndjson, viaRedis, prom]
        .map((s) => s.proc.stop())
        .concat([binaryExporter.stop(), ndjsonExporter.stop(), redisExporter.stop()]),
    );
    await redis.stop();
    await origin.stop();
    for (const s of [...sockets, privateSocketPath('bench-r')]) removeSocketDir(s);
  }
  return rowsFrom(variants, workloads, results, downloaderUs, ledgers);
}

function rowsFrom(
  variants: Variant[],
  workloads: { name: string }[],
  results: Map<string, LoadResult[]>,
  downloaderUs: Map<string, number[]>,
  ledgers: Record<string, { emitted: number; dropped: number }>,
): Row[] {
  const rows: Row[] = [];
  for (const w of workloads) {
    const summary = (name: string) => {
      const rs = results.get(`${w.name}|${name}`) ?? [];
      return {
        rps: median(rs.map((x) => x.rps)),
        cpu: median(rs.map((x) => x.cpuUsPerRequest)),
        own: median(downloaderUs.get(`${w.name}|${name}`) ?? []),
        p99: median(rs.map((x) => x.p99Ms)),
        errors: rs.reduce((a, x) => a + x.errors, 0),
      };
    };
    const base = summary(OFF);
    const served = variants.filter((v) => !v.only || v.only === w.name);
    for (const v of served) {
      const s = summary(v.name);
      const own = BASELINE[v.name];
      rows.push({
        benchmark: `total CPU per request, ${w.name}`,
        variant: v.name,
        value: `${s.cpu.toFixed(1)} us (downloader ${s.own.toFixed(1)})${s.errors ? `, ${s.errors} errors` : ''}`,
        ratio: `${(s.cpu / base.cpu).toFixed(3)}x${own ? `; ${(s.cpu / summary(own).cpu).toFixed(3)}x of the same process frozen` : ''}`,
        target: own && v.name !== NDJSON ? '<= 1.03x' : '',
      });
    }
    for (const v of served) {
      const s = summary(v.name);
      rows.push({
        benchmark: `throughput, ${w.name}`,
        variant: v.name,
        value: `${fmt(s.rps)} req/s`,
        ratio: `${(s.rps / base.rps).toFixed(3)}x`,
        target: v.name === BINARY ? '>= 0.97x' : '',
      });
    }
    const running = summary(BINARY);
    const moved = summary(MOVED);
    rows.push({
      benchmark: `same processes, exporter on the downloader's core vs the other, ${w.name}`,
      variant: 'throughput',
      value: `${fmt(running.rps)} vs ${fmt(moved.rps)} req/s`,
      ratio: `${(running.rps / moved.rps).toFixed(3)}x`,
      target: '>= 0.97x',
    });
    const frozen = summary(BINARY_FROZEN);
    rows.push({
      benchmark: `p99 latency, ${w.name}`,
      variant: 'exporter frozen vs running (same processes)',
      value: `${frozen.p99.toFixed(2)} ms vs ${running.p99.toFixed(2)} ms`,
      ratio: `${(frozen.p99 / running.p99).toFixed(3)}x`,
      target: '<= 1.1x',
    });
  }
  for (const [name, l] of Object.entries(ledgers)) {
    rows.push({
      benchmark: 'events dropped at full load',
      variant: name,
      value: `${fmt(l.dropped)} of ${fmt(l.emitted)}`,
      target: '0',
    });
  }
  return rows;
}
