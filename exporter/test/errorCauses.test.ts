import net from 'node:net';
import { Origin, runPlan, SystemUnderTest, sumSamples, waitFor } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Factor {
  value: number | null;
  penalty: number;
  status: string;
  detail: string;
}
interface Health {
  overall_score: number;
  factors: Record<string, Factor>;
}

const get = (path: string, endpoint: string, status: number, headers?: Record<string, string>) => ({
  method: 'GET',
  path,
  endpoint,
  status,
  ...(headers ? { headers } : {}),
});

describe('errors by cause: a dead link is not our outage (real downloader, exporter, origin)', () => {
  const origin = new Origin();
  // No browser at CHROMIUM_PATH: a PDF request fails by the service's own fault (503 pdf_unavailable).
  const sut = new SystemUnderTest(
    { DOWNLOADER_ALLOW_PRIVATE: '1', CHROMIUM_PATH: '/nonexistent/chromium' },
    { POLL_INTERVAL_S: '0.3', HEALTH_WINDOW: '60' },
  );
  const health = () => sut.json<Health>('/metrics/health-score');

  beforeAll(async () => {
    await origin.start();
    origin.static('/fine', 'text/plain', 'fine');
    await sut.start();
  });
  afterAll(async () => {
    await sut.stop();
    await origin.stop();
  });

  it('100 dead-link downloads and 100 /health: no error_rate penalty, targets at 50 %, no service error', async () => {
    const plan = Array.from({ length: 200 }, (_, i) =>
      i % 2 ? get('/health', '/health', 200) : get(`/${origin.base}/dead?i=${i}`, '/{url}', 404),
    );
    expect(await runPlan(sut.base, plan)).toBe(200);
    const m = await waitFor('200 requests counted', async () => {
      const x = await sut.metrics();
      return sumSamples(x, 'downloader_requests_total') >= 200 ? x : undefined;
    });
    expect(sumSamples(m, 'downloader_requests_total', { cause: 'target' })).toBe(100);
    expect(sumSamples(m, 'downloader_requests_total', { cause: 'none' })).toBe(100);
    expect(sumSamples(m, 'downloader_requests_total', { cause: 'service' })).toBe(0); // the availability SLI's numerator
    // The target's 404 is passed through, as the original service does, and is still the target's failure.
    expect(sumSamples(m, 'downloader_errors_total', { endpoint: '/{url}', status: '404', cause: 'target' })).toBe(100);
    const h = await health();
    expect(h.factors.error_rate).toMatchObject({ value: 0, penalty: 0, status: 'ok' });
    expect(h.factors.targets).toMatchObject({ value: 50, penalty: 0, status: 'warn' });
    expect(h.overall_score).toBeGreaterThanOrEqual(80);
  });

  it("takes the error_rate penalty when requests fail by the service's own fault", async () => {
    const plan = Array.from({ length: 200 }, (_, i) =>
      i % 2
        ? get(`/${origin.base}/fine?i=${i}`, '/{url}', 200)
        : get(`/${origin.base}/fine?i=${i}`, '/{url}', 503, { accept: 'application/pdf' }),
    );
    expect(await runPlan(sut.base, plan)).toBe(200);
    const m = await waitFor('400 requests counted', async () => {
      const x = await sut.metrics();
      return sumSamples(x, 'downloader_requests_total') >= 400 ? x : undefined;
    });
    const h = await health();
    expect(h.factors.error_rate).toMatchObject({ value: 25, penalty: 30, status: 'critical' }); // 100 of 400 in the window
    expect(sumSamples(m, 'downloader_requests_total', { status: '503', cause: 'service' })).toBe(100);
  });
});

/** An origin whose every connection is cut at once: to the downloader, a target it cannot reach. */
async function unreachableOrigin(): Promise<{ base: string; close(): Promise<void> }> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('the egress check: many distinct targets failing at once is our network, not theirs', () => {
  const healthy = Array.from({ length: 4 }, () => new Origin());
  const cut: Awaited<ReturnType<typeof unreachableOrigin>>[] = [];
  const sut = new SystemUnderTest({ DOWNLOADER_ALLOW_PRIVATE: '1' }, { POLL_INTERVAL_S: '0.3', HEALTH_WINDOW: '60' });
  const health = () => sut.json<Health>('/metrics/health-score');
  const fetches = async () => sumSamples(await sut.metrics(), 'downloader_upstream_requests_total');

  beforeAll(async () => {
    for (const o of healthy) (await o.start()).static('/ok', 'text/plain', 'ok');
    for (let i = 0; i < 6; i++) cut.push(await unreachableOrigin());
    await sut.start();
  });
  afterAll(async () => {
    await sut.stop();
    for (const o of healthy) await o.stop();
    for (const c of cut) await c.close();
  });

  it('one unreachable target among healthy ones: no egress penalty, even at half of all fetches', async () => {
    const plan = [
      ...healthy.map((o) => get(`/${o.base}/ok`, '/{url}', 200)),
      ...Array.from({ length: 4 }, (_, i) => get(`/${cut[0]?.base}/x?i=${i}`, '/{url}', 502)),
    ];
    expect(await runPlan(sut.base, plan, 8)).toBe(8);
    await waitFor('8 fetches counted', async () => ((await fetches()) >= 8 ? true : undefined));
    const h = await health();
    expect(h.factors.dependencies?.detail).not.toContain('egress');
    expect(h.factors.dependencies?.penalty).toBe(0);
  });

  it('five more unreachable targets on distinct ports: the dependencies factor names egress', async () => {
    // Four fetches each: below the circuit breaker's five failures, so each one really tries to connect.
    const plan = cut.slice(1).flatMap((c) => Array.from({ length: 4 }, (_, i) => get(`/${c.base}/x?i=${i}`, '/{url}', 502)));
    expect(await runPlan(sut.base, plan, 10)).toBe(20);
    await waitFor('28 fetches counted', async () => ((await fetches()) >= 28 ? true : undefined));
    const h = await health();
    expect(h.factors.dependencies?.detail).toMatch(/fetches to 6 distinct hosts fail \(24 of 28\)/);
    expect(h.factors.dependencies?.penalty).toBe(10);
    expect(h.factors.error_rate?.penalty).toBe(0); // each failure is still the target's answer to the caller
  });
});
