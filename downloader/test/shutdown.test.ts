import type { ServerResponse } from 'node:http';
import { logLines, Origin, startLoneDownloader } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('SIGTERM drains in-flight downloads for SHUTDOWN_GRACE_S, then exits', () => {
  const origin = new Origin();
  const held: ServerResponse[] = [];
  beforeAll(async () => {
    await origin.start();
    origin
      .route('/slow', (_req, res) => {
        setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('worth the wait'), 1_000);
      })
      .route('/never', (_req, res) => void held.push(res));
  });
  afterAll(async () => {
    for (const r of held.splice(0)) r.destroy();
    await origin.stop();
  });

  it('a download in flight when SIGTERM arrives is answered; new connections are refused; exit 0', async () => {
    const d = await startLoneDownloader({ DOWNLOADER_ALLOW_PRIVATE: '1', SHUTDOWN_GRACE_S: '5' });
    const inFlight = fetch(`${d.base}/${origin.base}/slow`);
    await new Promise((r) => setTimeout(r, 200));
    d.proc.signal('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    await expect(fetch(`${d.base}/health`)).rejects.toThrow();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('worth the wait');
    expect(await d.proc.exited).toBe(0);
    const msgs = logLines(d.proc.output()).map((l) => l.msg);
    expect(msgs).toContain('stopping: finishing in-flight requests');
    expect(msgs.at(-1)).toBe('stopped');
  });

  it('one that outlasts the grace does not hold the exit past it', async () => {
    const d = await startLoneDownloader({ DOWNLOADER_ALLOW_PRIVATE: '1', SHUTDOWN_GRACE_S: '0.5' });
    const stuck = fetch(`${d.base}/${origin.base}/never`).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    d.proc.signal('SIGTERM');
    expect(await d.proc.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3_000);
    await stuck;
  });
});
