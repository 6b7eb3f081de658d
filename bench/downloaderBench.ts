// The downloader's own work: cached small-page downloads per second with telemetry off vs on
// (socket, exporter on the same core), and PDF renders per second at the PDF pool's limit.
import { execFileSync } from 'node:child_process';
import { freePort, Origin, privateSocketPath, type RunningProcess, removeSocketDir, startService, waitFor } from '@dl/testkit';
import { fmt, load, median, type Row } from './lib.ts';

const PAGE = `<!doctype html><html><head><title>Small</title></head><body><article><h1>Small page</h1><p>${'A short paragraph of text. '.repeat(20)}</p></article></body></html>`;

const pin = (pid: number, cpu: string) => {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpu, String(pid)], { stdio: 'ignore' });
  } catch {}
};

async function downloader(env: Record<string, string>): Promise<{ proc: RunningProcess; base: string }> {
  const port = await freePort();
  const proc = startService('downloader', {
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_PORT: String(await freePort()),
    DOWNLOADER_ALLOW_PRIVATE: '1',
    LOG_LEVEL: 'warn', // no access lines: these runs send tens of thousands of requests
    ...env,
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor('downloader', async () => (await fetch(`${base}/health`)).ok || undefined, 20_000);
  pin(proc.pid, '1');
  return { proc, base };
}

export async function downloaderBench(rounds: number, seconds: number, pdfRenders: number): Promise<Row[]> {
  const origin = await new Origin().start();
  origin.static('/page', 'text/html; charset=utf-8', PAGE);
  const socket = privateSocketPath('bench-dl');
  const exporterPort = await freePort();
  const exporter = startService('exporter', { EXPORTER_PORT: String(exporterPort), EVENTS_SOCKET: socket });
  await waitFor('exporter', async () => (await fetch(`http://127.0.0.1:${exporterPort}/readyz`)).ok || undefined, 20_000);
  pin(exporter.pid, '1');
  const off = await downloader({ EVENTS_TRANSPORT: 'off' });
  const on = await downloader({ EVENTS_SOCKET: socket });
  const pdfHost = await downloader({ EVENTS_TRANSPORT: 'off' });
  const rows: Row[] = [];
  try {
    const path = `/${origin.base}/page`;
    for (const d of [off, on]) {
      const first = await fetch(d.base + path);
      if (first.headers.get('x-cache') !== 'MISS' || !first.ok) throw new Error('cache warm-up failed');
      if ((await fetch(d.base + path)).headers.get('x-cache') !== 'HIT') throw new Error('second request not a cache hit');
    }
    const rps: Record<string, number[]> = { off: [], on: [] };
    for (let r = 0; r < rounds; r++) {
      for (const [name, d] of r % 2
        ? ([
            ['on', on],
            ['off', off],
          ] as const)
        : ([
            ['off', off],
            ['on', on],
          ] as const)) {
        rps[name]?.push((await load(d.base + path, d.proc.pid, seconds)).rps);
      }
    }
    const base = median(rps.off ?? []);
    const tel = median(rps.on ?? []);
    rows.push(
      { benchmark: 'cached small-page downloads', variant: 'telemetry off', value: `${fmt(base)} req/s`, ratio: '1.000x' },
      {
        benchmark: 'cached small-page downloads',
        variant: 'socket, exporter on the same core',
        value: `${fmt(tel)} req/s`,
        ratio: `${(tel / base).toFixed(3)}x`,
        target: '>= 0.97x',
      },
    );
    const limit = 4;
    // PDF: as many renders in flight as the pool has slots (default 2 x cores, max 12).
    await fetch(`${pdfHost.base}${path}`, { headers: { accept: 'application/pdf' } }); // browser launch
    const started = performance.now();
    let next = 0;
    let okCount = 0;
    await Promise.all(
      Array.from({ length: limit }, async () => {
        while (next++ < pdfRenders) {
          const res = await fetch(`${pdfHost.base}${path}?n=${next}`, { headers: { accept: 'application/pdf' } });
          await res.arrayBuffer();
          if (res.ok) okCount++;
        }
      }),
    );
    const perSecond = okCount / ((performance.now() - started) / 1000);
    rows.push({
      benchmark: 'PDF renders',
      variant: `${pdfRenders} renders, ${limit} at a time (the pool limit on 2 cores)`,
      value: `${perSecond.toFixed(1)} renders/s`,
    });
  } finally {
    await Promise.all([off.proc.stop(), on.proc.stop(), pdfHost.proc.stop(), exporter.stop()]);
    await origin.stop();
    removeSocketDir(socket);
  }
  return rows;
}
