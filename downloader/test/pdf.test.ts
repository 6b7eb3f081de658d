import { spawnSync } from 'node:child_process';
import { getJson, Origin, requireBinary, SystemUnderTest, sumSamples, waitFor } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ok = requireBinary('chromium') && requireBinary('pdftotext');
const PAGE =
  '<!doctype html><html><head><title>Report</title></head><body><h1>Quarterly report</h1><p>Revenue grew by seventeen percent.</p></body></html>';

function pdfText(pdf: Buffer): string {
  const r = spawnSync('pdftotext', ['-', '-'], { input: pdf, encoding: 'utf8' });
  return r.stdout;
}

describe.skipIf(!ok)('PDF rendering with the system Chromium', () => {
  const origin = new Origin();
  const sut = new SystemUnderTest({ DOWNLOADER_ALLOW_PRIVATE: '1', PDF_CONCURRENCY: '2' }, { POLL_INTERVAL_S: '0.3' });
  beforeAll(async () => {
    await origin.start();
    origin.static('/report', 'text/html; charset=utf-8', PAGE);
    origin.route('/slow', (_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE), 400);
    });
    await sut.start();
  });
  afterAll(async () => {
    await sut.stop();
    await origin.stop();
  });

  it("answers application/pdf with a valid PDF holding the page's text", async () => {
    const res = await fetch(`${sut.base}/${origin.base}/report`, { headers: { accept: 'application/pdf' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await res.arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(pdf);
    expect(text).toContain('Quarterly report');
    expect(text).toContain('Revenue grew by seventeen percent.');
  });

  it('never runs more renders than the PDF pool allows, under 3x load', async () => {
    let peak = 0;
    let queuedSeen = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await getJson<{ pools: { pdf: { active: number; queued: number; limit: number } } }>(
          `http://127.0.0.1:${sut.adminPort}/internal/stats`,
        );
        peak = Math.max(peak, s.pools.pdf.active);
        queuedSeen = Math.max(queuedSeen, s.pools.pdf.queued);
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    const statuses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        fetch(`${sut.base}/${origin.base}/slow?i=${i}`, { headers: { accept: 'application/pdf' } }).then((r) => r.status),
      ),
    );
    sampling = false;
    await sampler;
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(peak).toBe(2);
    expect(queuedSeen).toBeGreaterThan(0);
    await waitFor('pdf events', async () =>
      sumSamples(await sut.metrics(), 'downloader_pdf_renders_total', { outcome: 'ok' }) >= 7 ? true : undefined,
    );
    await waitFor('browser reported available', async () =>
      sumSamples(await sut.metrics(), 'downloader_component_up', { component: 'pdf_browser' }) === 1 ? true : undefined,
    );
  });
});

describe('PDF without a browser, and the SSRF rule on navigation', () => {
  const sut = new SystemUnderTest({ CHROMIUM_PATH: '/nonexistent/chromium' }, { POLL_INTERVAL_S: '0.3' });
  beforeAll(() => sut.start());
  afterAll(() => sut.stop());

  it('answers 503 pdf_unavailable and counts the render as unavailable', async () => {
    const res = await fetch(`${sut.base}/http://example.com/`, { headers: { accept: 'application/pdf' } });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ success: false, error_type: 'pdf_unavailable' });
    await waitFor('unavailable counted', async () =>
      sumSamples(await sut.metrics(), 'downloader_pdf_renders_total', { outcome: 'unavailable' }) === 1 ? true : undefined,
    );
    await waitFor('browser reported down', async () => {
      const h = await sut.json<{ factors: { dependencies: { detail: string } } }>('/metrics/health-score');
      return h.factors.dependencies.detail.includes('PDF browser unavailable') ? true : undefined;
    });
  });
});

describe.skipIf(!ok)('PDF navigation to a private address', () => {
  const sut = new SystemUnderTest({});
  beforeAll(() => sut.start());
  afterAll(() => sut.stop());

  it('is refused with 403 before the browser goes there', async () => {
    const res = await fetch(`${sut.base}/http://127.0.0.1:1/`, { headers: { accept: 'application/pdf' } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ success: false, error_type: 'blocked_target' });
  });
});

describe.skipIf(!ok)('the PDF queue is bounded, and a client that leaves takes its render with it', () => {
  const origin = new Origin();
  const sut = new SystemUnderTest(
    { DOWNLOADER_ALLOW_PRIVATE: '1', PDF_CONCURRENCY: '1', PDF_QUEUE_MAX: '1' },
    { POLL_INTERVAL_S: '0.3' },
  );
  beforeAll(async () => {
    await origin.start();
    origin.route('/slow', (_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE), 1_500);
    });
    await sut.start();
  });
  afterAll(async () => {
    await sut.stop();
    await origin.stop();
  });
  const pdfOutcomes = async (outcome: string) => sumSamples(await sut.metrics(), 'downloader_pdf_renders_total', { outcome });

  it('answers 503 queue_full with Retry-After once one render runs and one waits', async () => {
    const get = (i: number) => fetch(`${sut.base}/${origin.base}/slow?q=${i}`, { headers: { accept: 'application/pdf' } });
    const running = get(1);
    await waitFor('one render running', async () => {
      const s = await getJson<{ pools: { pdf: { active: number } } }>(`http://127.0.0.1:${sut.adminPort}/internal/stats`);
      return s.pools.pdf.active === 1 || undefined;
    });
    const waiting = get(2);
    await waitFor('one render queued', async () => {
      const s = await getJson<{ pools: { pdf: { queued: number } } }>(`http://127.0.0.1:${sut.adminPort}/internal/stats`);
      return s.pools.pdf.queued === 1 || undefined;
    });
    const refused = await get(3);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ success: false, error_type: 'queue_full' });
    expect((await running).status).toBe(200);
    expect((await waiting).status).toBe(200);
    await waitFor('queue_full counted', async () => ((await pdfOutcomes('queue_full')) === 1 ? true : undefined));
  });

  it('stops a render, queued or running, whose client gave up', async () => {
    const before = origin.hits.get('/slow') ?? 0;
    const clients = [new AbortController(), new AbortController()];
    const requests = clients.map((c, i) =>
      fetch(`${sut.base}/${origin.base}/slow?gone=${i}`, { headers: { accept: 'application/pdf' }, signal: c.signal }).catch(
        (e: Error) => e.name,
      ),
    );
    // One render running, one waiting: then both clients give up.
    await waitFor('one running, one queued', async () => {
      const s = await getJson<{ pools: { pdf: { active: number; queued: number } } }>(
        `http://127.0.0.1:${sut.adminPort}/internal/stats`,
      );
      return (s.pools.pdf.active === 1 && s.pools.pdf.queued === 1) || undefined;
    });
    for (const c of clients) c.abort();
    expect(await Promise.all(requests)).toEqual(['AbortError', 'AbortError']);
    await waitFor('both renders abandoned', async () => ((await pdfOutcomes('abandoned')) === 2 ? true : undefined), 10_000);
    const s = await getJson<{ pools: { pdf: { active: number; queued: number } } }>(
      `http://127.0.0.1:${sut.adminPort}/internal/stats`,
    );
    expect(s.pools.pdf).toMatchObject({ active: 0, queued: 0 });
    expect((origin.hits.get('/slow') ?? 0) - before).toBeLessThanOrEqual(1); // the queued one never reached the origin
  });
});
