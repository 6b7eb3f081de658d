import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium, RawEventClient, RedisServer, repoRoot, requireBinary, SystemUnderTest, waitFor } from '@dl/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ok = requireBinary('chromium') && requireBinary('redis-server');

/** Events the thin downloader cannot produce yet (fetches, cache lookups), written straight to the socket. */
function domainEvents(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    const ts = Date.now();
    out += `{"v":1,"kind":"upstream","ts":${ts},"outcome":"${i % 10 ? 'ok' : 'timeout'}","status":200,"duration_s":${0.05 + (i % 7) / 50},"retries":${i % 3}}\n`;
    out += `{"v":1,"kind":"cache","ts":${ts},"result":"${i % 3 ? 'hit' : 'miss'}","format":"markdown"}\n`;
  }
  return out;
}

describe.skipIf(!ok)('/dashboard in headless Chromium', () => {
  const redis = new RedisServer();
  let sut: SystemUnderTest;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  let raw: RawEventClient;
  let sent = 0;

  const traffic = async (n: number) => {
    const statuses = await Promise.all(
      Array.from({ length: n }, (_, i) => fetch(`${sut.base}${i % 5 ? '/health' : '/jobs/x/status'}`).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 200).length).toBe(n - Math.ceil(n / 5));
    await raw.write(domainEvents(n));
    sent += 2 * n;
    await raw.waitAcked(sent);
  };

  beforeAll(async () => {
    await redis.start();
    sut = await new SystemUnderTest({}, { REDIS_URL: redis.url, POLL_INTERVAL_S: '0.5', DASHBOARD_SAMPLE_S: '0.5' }).start();
    raw = await RawEventClient.connect(sut.socketPath);
    await traffic(200);
    await new Promise((r) => setTimeout(r, 1_200)); // a couple of history samples before the page opens
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  });
  afterAll(async () => {
    await browser?.close();
    raw?.close();
    await sut?.stop();
    await redis.stop();
  });

  it('loads with no console errors, from local assets only', async () => {
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(`${sut.metricsBase}/dashboard#refresh=500`);
    await page.waitForSelector('#conn.ok', { timeout: 10_000 });
    expect(problems).toEqual([]);
    expect(urls.length).toBeGreaterThan(4);
    for (const u of urls) expect(u.startsWith(sut.metricsBase), u).toBe(true);
  });

  it('shows a value with its unit in every panel, and data in every chart', async () => {
    await waitFor('history in every chart', async () => {
      const series = await page.evaluate(() =>
        (window as unknown as { dashboard: { series(): { id: string; values: (number | null)[][] }[] } }).dashboard.series(),
      );
      const empty = series.filter((c) => !c.values.some((v) => v.some((x) => x !== null && x !== undefined)));
      return empty.length === 0 ? true : undefined;
    });
    const panels = await page.$$eval('[data-panel]', (els) =>
      els.map((el) => ({
        name: el.getAttribute('data-panel'),
        text: [...el.children]
          .filter((c) => c.tagName !== 'H2')
          .map((c) => (c as HTMLElement).innerText.trim())
          .join(' '),
        canvases: el.querySelectorAll('canvas').length,
        hasChart: el.querySelector('.chart') !== null,
      })),
    );
    expect(panels.length).toBeGreaterThanOrEqual(17);
    for (const p of panels) {
      expect(p.text.replace(/[–…\s]/g, '').length, `${p.name} is empty: "${p.text}"`).toBeGreaterThan(0);
      expect(p.text, p.name ?? '').not.toContain('…');
      if (p.hasChart) expect(p.canvases, `${p.name} has no chart`).toBeGreaterThan(0);
    }
    const text = (id: string) => page.$eval(id, (e) => (e as HTMLElement).innerText);
    expect(await text('#health-value')).toMatch(/^\d+ \/ 100$/);
    expect(await text('#rps-value')).toMatch(/req\/s$/);
    expect(await text('#p95-value')).toMatch(/ ms$/);
    expect(await text('#redis-value')).toBe('UP');
    expect(await text('#cache-value')).toMatch(/ %$/);
    expect(await text('#endpoints-body')).toContain('GET /health');
    expect(problems).toEqual([]);
  });

  it('changes its values after more traffic, and a screenshot is kept as an artefact (and for the README)', async () => {
    const before = await page.$eval('#pipeline-sub', (e) => (e as HTMLElement).innerText);
    await traffic(500);
    await waitFor('pipeline figures to move', async () => {
      const now = await page.$eval('#pipeline-sub', (e) => (e as HTMLElement).innerText);
      return now !== before ? true : undefined;
    });
    const count = async () =>
      Number(
        (await page.$eval('#endpoints-body', (e) => (e as HTMLElement).innerText))
          .match(/GET \/health\t([\d,]+)/)?.[1]
          ?.replace(/,/g, ''),
      );
    await waitFor('endpoint table to count the new requests', async () => ((await count()) >= 560 ? true : undefined));
    const dir = join(repoRoot, '.artifacts');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, 'dashboard.png'), fullPage: true });
    // The README's picture: UPDATE_SCREENSHOT=1 npx vitest run exporter/test/dashboard.test.ts
    const readmeShot = join(repoRoot, 'docs', 'images', 'dashboard.png');
    if (process.env.UPDATE_SCREENSHOT === '1') {
      await page.setViewportSize({ width: 1400, height: 1000 });
      await page.screenshot({ path: readmeShot });
    }
    const png = readFileSync(readmeShot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1400, 1000]);
    expect(problems).toEqual([]);
  });
});
