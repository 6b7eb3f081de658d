// Downloader /health throughput, CPU per request and p99: telemetry off; on (socket) with the
// exporter sharing the downloader's core (a sidecar sharing its pod's CPU, the worst case) or on the
// other core; on with the exporter frozen; and an in-process prom-client middleware instead.
// Downloaders run on core 1, wrk on core 0. Variants alternate round by round so drift on this noisy
// machine hits them all alike.
import { execFileSync } from 'node:child_process';
import {
  freePort,
  getJson,
  privateSocketPath,
  RedisServer,
  type RunningProcess,
  removeSocketDir,
  startService,
  startTs,
  waitFor,
} from '@dl/testkit';
import { cpuSeconds, fmt, type LoadResult, load, median, type Row } from './lib.ts';

const SHARED = 'socket, exporter on the same core';
const SEPARATE = 'socket, exporter on the other core';
const FROZEN = 'socket, exporter frozen (SIGSTOP)';
const REDIS = 'Redis stream, exporter on the same core';

interface Variant {
  name: string;
  port: number;
  proc: RunningProcess;
  exporter?: RunningProcess;
  before?: () => void;
  after?: () => void;
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

async function startServer(start: Starter, env: Record<string, string>) {
  const port = await freePort();
  const adminPort = await freePort();
  // Access lines off (LOG_LEVEL=warn) in every variant: this measures telemetry, not logging.
  const proc = start({ PORT: String(port), HOST: '127.0.0.1', ADMIN_PORT: String(adminPort), LOG_LEVEL: 'warn', ...env });
  await waitFor(`server on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok || undefined, 20_000);
  pin(proc.pid, '1');
  return { proc, port, adminPort };
}

async function startExporter(socket: string, cpu: string, env: Record<string, string> = {}): Promise<RunningProcess> {
  const port = await freePort();
  const exporter = startService('exporter', { EXPORTER_PORT: String(port), EVENTS_SOCKET: socket, ...env });
  await waitFor('exporter', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok || undefined, 20_000);
  pin(exporter.pid, cpu);
  return exporter;
}

export async function overheadBench(rounds: number, seconds: number): Promise<Row[]> {
  const sockets = [privateSocketPath('bench-a'), privateSocketPath('bench-b')] as const;
  const redis = await new RedisServer().start();
  pin(redis.pid as number, '0');
  const redisEnv = { EVENTS_TRANSPORT: 'redis', REDIS_URL: redis.url, EVENTS_STREAM: 'bench:events' };
  const viaRedis = await startExporter(sockets[0], '1', redisEnv);
  const near = await startExporter(sockets[0], '1');
  const far = await startExporter(sockets[1], '0');
  const off = await startServer(downloader, { EVENTS_TRANSPORT: 'off' });
  const onNear = await startServer(downloader, { EVENTS_SOCKET: sockets[0] });
  const onFar = await startServer(downloader, { EVENTS_SOCKET: sockets[1] });
  const onRedis = await startServer(downloader, redisEnv);
  const prom = await startServer(inProcess, {});
  const variants: Variant[] = [
    { name: 'telemetry off', ...off },
    { name: SHARED, ...onNear, exporter: near },
    { name: SEPARATE, ...onFar, exporter: far },
    { name: REDIS, ...onRedis, exporter: viaRedis },
    { name: FROZEN, ...onNear, before: () => near.signal('SIGSTOP'), after: () => near.signal('SIGCONT') },
    { name: 'in-process prom-client middleware', ...prom },
  ];
  const results = new Map<string, LoadResult[]>(variants.map((v) => [v.name, []]));
  const exporterUs: number[] = [];
  try {
    for (const v of variants) await load(`http://127.0.0.1:${v.port}/health`, v.proc.pid, 1); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
        v.before?.();
        const e0 = v.exporter ? cpuSeconds(v.exporter.pid) : 0;
        const result = await load(`http://127.0.0.1:${v.port}/health`, v.proc.pid, seconds);
        if (v.exporter) exporterUs.push(((cpuSeconds(v.exporter.pid) - e0) / result.requests) * 1e6);
        results.get(v.name)?.push(result);
        v.after?.();
        // Let a thawed exporter drain the backlog before the next variant is measured.
        if (v.after) await new Promise((res) => setTimeout(res, 500));
      }
    }
    const stats = await getJson<{ telemetry: object }>(`http://127.0.0.1:${onNear.adminPort}/internal/stats`);
    console.error('ledger of the same-core socket downloader (frozen rounds drop):', JSON.stringify(stats.telemetry));
  } finally {
    near.signal('SIGCONT');
    await Promise.all(
      [off, onNear, onFar, onRedis, prom].map((s) => s.proc.stop()).concat([near.stop(), far.stop(), viaRedis.stop()]),
    );
    await redis.stop();
    for (const s of sockets) removeSocketDir(s);
  }
  return rowsFrom(variants, results, exporterUs);
}

function rowsFrom(variants: Variant[], results: Map<string, LoadResult[]>, exporterUs: number[]): Row[] {
  const summary = (name: string) => {
    const rs = results.get(name) ?? [];
    return {
      rps: median(rs.map((x) => x.rps)),
      cpu: median(rs.map((x) => x.cpuUsPerRequest)),
      p99: median(rs.map((x) => x.p99Ms)),
      errors: rs.reduce((a, x) => a + x.errors, 0),
    };
  };
  const base = summary('telemetry off');
  const target = (name: string, t: string) => (name === SHARED || name === SEPARATE || name === REDIS ? t : '');
  const rows: Row[] = variants.map((v) => {
    const s = summary(v.name);
    return {
      benchmark: 'downloader /health throughput',
      variant: v.name,
      value: `${fmt(s.rps)} req/s${s.errors ? ` (${s.errors} errors)` : ''}`,
      ratio: `${(s.rps / base.rps).toFixed(3)}x`,
      target: target(v.name, '>= 0.97x'),
    };
  });
  for (const v of variants) {
    const s = summary(v.name);
    rows.push({
      benchmark: 'downloader CPU per request',
      variant: v.name,
      value: `${s.cpu.toFixed(1)} us`,
      ratio: `${(s.cpu / base.cpu).toFixed(3)}x`,
      target: target(v.name, '<= 1.03x'),
    });
  }
  rows.push({
    benchmark: 'exporter CPU per event',
    variant: 'socket and Redis runs',
    value: `${median(exporterUs).toFixed(2)} us`,
    ratio: `${(median(exporterUs) / base.cpu).toFixed(3)}x of a request`,
  });
  const frozen = summary(FROZEN);
  const running = summary(SHARED);
  rows.push({
    benchmark: 'downloader p99 latency',
    variant: 'exporter frozen vs running (same core)',
    value: `${frozen.p99.toFixed(2)} ms vs ${running.p99.toFixed(2)} ms`,
    ratio: `${(frozen.p99 / running.p99).toFixed(3)}x`,
    target: '<= 1.1x',
  });
  return rows;
}
