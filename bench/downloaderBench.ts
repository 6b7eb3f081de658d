// The downloader's own work: PDF renders per second at the PDF pool's limit. (What telemetry costs a
// download is measured in overhead.ts, one process against itself.)
import { execFileSync } from 'node:child_process';
import { freePort, Origin, type RunningProcess, startService, waitFor } from '@dl/testkit';
import type { Row } from './lib.ts';

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

export async function downloaderBench(pdfRenders: number): Promise<Row[]> {
  const origin = await new Origin().start();
  origin.static('/page', 'text/html; charset=utf-8', PAGE);
  const pdfHost = await downloader({ EVENTS_TRANSPORT: 'off' });
  const rows: Row[] = [];
  try {
    const path = `/${origin.base}/page`;
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
    await pdfHost.proc.stop();
    await origin.stop();
  }
  return rows;
}
