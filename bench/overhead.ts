// Downloader /health throughput, CPU per request and p99 with telemetry off, on (socket, exporter
// running), on with the exporter frozen, and with an in-process prom-client middleware instead.
// Every server and the exporter run on core 1, as a sidecar shares its pod's CPU, so the exporter's
// work counts against the downloader's throughput; the load generator has core 0 to itself.
// Variants alternate round by round so drift on this noisy machine hits them all alike.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, getJson, type RunningProcess, startService, startTs, waitFor } from '@dl/testkit';
import { cpuSeconds, fmt, type LoadResult, load, median, type Row } from './lib.ts';

const RUNNING = 'socket (exporter running)';

interface Variant {
  name: string;
  port: number;
  proc: RunningProcess;
  before?: () => void;
  after?: () => void;
}

type Starter = (env: Record<string, string>) => RunningProcess;
const downloader: Starter = (env) => startService('downloader', env);
const inProcess: Starter = (env) => startTs('bench/inprocessServer.ts', env);

async function startServer(
  start: Starter,
  env: Record<string, string>,
  cpu: string,
): Promise<{ proc: RunningProcess; port: number; adminPort: number }> {
  const port = await freePort();
  const adminPort = await freePort();
  const proc = start({ PORT: String(port), HOST: '127.0.0.1', ADMIN_PORT: String(adminPort), ...env });
  await waitFor(`server on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok || undefined, 20_000);
  await pin(proc.pid, cpu);
  return { proc, port, adminPort };
}

async function pin(pid: number, cpu: string): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpu, String(pid)], { stdio: 'ignore' });
  } catch {
    // taskset missing: unpinned, still side by side.
  }
}

export async function overheadBench(rounds: number, seconds: number): Promise<Row[]> {
  const socket = join(tmpdir(), `bench-${process.pid}.sock`);
  const exporterPort = await freePort();
  const exporter = startService('exporter', { EXPORTER_PORT: String(exporterPort), EVENTS_SOCKET: socket });
  await waitFor('exporter', async () => (await fetch(`http://127.0.0.1:${exporterPort}/readyz`)).ok || undefined, 20_000);
  await pin(exporter.pid, '1');
  const off = await startServer(downloader, { EVENTS_TRANSPORT: 'off' }, '1');
  const on = await startServer(downloader, { EVENTS_TRANSPORT: 'socket', EVENTS_SOCKET: socket }, '1');
  const prom = await startServer(inProcess, {}, '1');
  const variants: Variant[] = [
    { name: 'telemetry off', ...off },
    { name: RUNNING, ...on },
    {
      name: 'socket, exporter frozen (SIGSTOP)',
      ...on,
      before: () => exporter.signal('SIGSTOP'),
      after: () => exporter.signal('SIGCONT'),
    },
    { name: 'in-process prom-client middleware', ...prom },
  ];
  const results = new Map<string, LoadResult[]>(variants.map((v) => [v.name, []]));
  const exporterUs: number[] = [];
  try {
    for (const v of variants) await load(`http://127.0.0.1:${v.port}/health`, v.proc.pid, 1); // warm-up
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        v.before?.();
        const e0 = cpuSeconds(exporter.pid);
        const result = await load(`http://127.0.0.1:${v.port}/health`, v.proc.pid, seconds);
        if (v.name === RUNNING) exporterUs.push(((cpuSeconds(exporter.pid) - e0) / result.requests) * 1e6);
        results.get(v.name)?.push(result);
        v.after?.();
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    const stats = await getJson<{ telemetry: object }>(`http://127.0.0.1:${on.adminPort}/internal/stats`);
    console.error('socket downloader ledger after the runs:', JSON.stringify(stats.telemetry));
  } finally {
    exporter.signal('SIGCONT');
    await Promise.all([off.proc.stop(), on.proc.stop(), prom.proc.stop(), exporter.stop()]);
    rmSync(socket, { force: true });
  }
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
  const running = summary(RUNNING);
  const rows: Row[] = [];
  for (const v of variants) {
    const s = summary(v.name);
    rows.push({
      benchmark: 'downloader /health throughput',
      variant: v.name,
      value: `${fmt(s.rps)} req/s${s.errors ? ` (${s.errors} errors)` : ''}`,
      ratio: `${(s.rps / base.rps).toFixed(3)}x`,
      target: v.name.startsWith('socket (') ? '>= 0.97x' : '',
    });
  }
  for (const v of variants) {
    const s = summary(v.name);
    rows.push({
      benchmark: 'downloader CPU per request',
      variant: v.name,
      value: `${s.cpu.toFixed(1)} us`,
      ratio: `${(s.cpu / base.cpu).toFixed(3)}x`,
      target: v.name.startsWith('socket (') ? '<= 1.03x' : '',
    });
  }
  rows.push({
    benchmark: 'exporter CPU per event',
    variant: 'same runs, exporter on the same core',
    value: `${median(exporterUs).toFixed(2)} us`,
    ratio: `${(median(exporterUs) / base.cpu).toFixed(3)}x of a request`,
  });
  const frozen = summary('socket, exporter frozen (SIGSTOP)');
  rows.push({
    benchmark: 'downloader p99 latency',
    variant: 'exporter frozen vs running',
    value: `${frozen.p99.toFixed(2)} ms vs ${running.p99.toFixed(2)} ms`,
    ratio: `${(frozen.p99 / running.p99).toFixed(3)}x`,
    target: '<= 1.1x',
  });
  return rows;
}
