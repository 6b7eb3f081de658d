import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  getJson,
  plan,
  RawEventClient,
  RedisServer,
  repoRoot,
  requireBinary,
  runPlan,
  SystemUnderTest,
  spawnServer,
  waitFor,
} from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { dashboard, nativeOnly } from '../grafana/dashboard.ts';

/**
 * The live proof: the real downloader and exporter, a real Prometheus with the repository's rules
 * scraping every second, a real Alertmanager with the repository's routing and a local webhook.
 */
const ok = requireBinary('prometheus') && requireBinary('prometheus-alertmanager') && requireBinary('redis-server');

interface Notification {
  path: string;
  body: { status: string; alerts: { status: string; labels: Record<string, string> }[] };
}

/** Injected events for what the thin downloader cannot produce yet: 5xx responses, fetches, cache lookups. */
function injected(): string {
  const ts = Date.now();
  let out = '';
  for (let i = 0; i < 20; i++) {
    out += `{"v":1,"kind":"request","ts":${ts},"endpoint":"/{url}","method":"GET","status":${i % 4 ? 200 : 502},"duration_s":${0.05 + i / 100}}\n`;
    out += `{"v":1,"kind":"upstream","ts":${ts},"outcome":"${i % 4 ? 'ok' : 'http_error'}","status":200,"duration_s":0.2,"retries":0}\n`;
    out += `{"v":1,"kind":"cache","ts":${ts},"result":"${i % 3 ? 'hit' : 'miss'}"}\n`;
  }
  return out;
}

describe.skipIf(!ok)('live proof: Prometheus and Alertmanager on the real exporter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-proof-'));
  const redis = new RedisServer();
  const notifications: Notification[] = [];
  let sut: SystemUnderTest;
  let webhook: Server;
  let prometheus: ReturnType<typeof spawnServer>;
  let alertmanager: ReturnType<typeof spawnServer>;
  let promBase = '';
  let amBase = '';
  let raw: RawEventClient;
  let pump: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    await redis.start();
    sut = await new SystemUnderTest({}, { REDIS_URL: redis.url, POLL_INTERVAL_S: '0.5' }).start();
    raw = await RawEventClient.connect(sut.socketPath);

    const hookPort = await freePort();
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        notifications.push({ path: req.url ?? '', body: JSON.parse(body) });
        res.end('ok');
      });
    }).listen(hookPort, '127.0.0.1');

    // The repository's Alertmanager routing, with its receivers pointed at the local webhook.
    const am = parse(readFileSync(join(repoRoot, 'monitoring/alertmanager/alertmanager.yml'), 'utf8'));
    for (const r of am.receivers) for (const w of r.webhook_configs) w.url = `http://127.0.0.1:${hookPort}/${r.name}`;
    Object.assign(am.route, { group_wait: '1s', group_interval: '1s' });
    for (const r of am.route.routes) r.group_wait = '1s';
    writeFileSync(join(dir, 'alertmanager.yml'), stringify(am));
    const amPort = await freePort();
    amBase = `http://127.0.0.1:${amPort}`;
    alertmanager = spawnServer('prometheus-alertmanager', [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'am')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
    ]);
    await waitFor('alertmanager ready', async () => (await fetch(`http://127.0.0.1:${amPort}/-/ready`)).ok || undefined, 30_000);

    // The repository's rules as they are, plus copies of the alerts this proof waits for with their
    // `for` shortened to 2 s.
    const rulesPath = join(repoRoot, 'monitoring/prometheus/rules/downloader.rules.yml');
    const rules = parse(readFileSync(rulesPath, 'utf8'));
    const quick = ['DownloaderHighErrorRate', 'DownloaderDown', 'DownloaderUnreachable'].map((name) => ({
      ...rules.groups.flatMap((g: { rules: { alert?: string }[] }) => g.rules).find((r: { alert?: string }) => r.alert === name),
      for: '2s',
    }));
    writeFileSync(join(dir, 'test.rules.yml'), stringify({ groups: [{ name: 'live-proof', rules: quick }] }));
    const promPort = await freePort();
    promBase = `http://127.0.0.1:${promPort}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [rulesPath, join(dir, 'test.rules.yml')],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
        scrape_configs: [{ job_name: 'downloader', static_configs: [{ targets: [`127.0.0.1:${sut.exporterPort}`] }] }],
      }),
    );
    prometheus = spawnServer('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    await waitFor('prometheus ready', async () => (await fetch(`${promBase}/-/ready`)).ok || undefined, 30_000);

    // Mixed traffic, kept flowing while the test runs: real requests (200, 404) and injected 5xx.
    pump = setInterval(() => {
      void runPlan(sut.base, plan(20), 4).catch(() => {});
      void raw.write(injected()).catch(() => {});
    }, 250);
    await waitFor(
      'the exporter scraped',
      async () => {
        const r = await getJson<{ data: { result: { value: [number, string] }[] } }>(
          `${promBase}/api/v1/query?query=up{job="downloader"}`,
        );
        return r.data.result[0]?.value[1] === '1' ? true : undefined;
      },
      30_000,
    );
  });

  afterAll(async () => {
    clearInterval(pump);
    raw?.close();
    prometheus?.stop();
    alertmanager?.stop();
    webhook?.close();
    await sut?.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const query = async (expr: string) => {
    const r = await getJson<{ status: string; data: { result: unknown[] } }>(
      `${promBase}/api/v1/query?query=${encodeURIComponent(expr)}`,
    );
    expect(r.status).toBe('success');
    return r.data.result;
  };

  it('answers every expression of every Grafana panel with data', async () => {
    const exprs = (dashboard.panels ?? []).flatMap((p) =>
      ('targets' in p ? (p.targets ?? []) : []).map((t) => ({ panel: p.title ?? '', expr: (t as { expr: string }).expr })),
    );
    expect(exprs.length).toBeGreaterThan(25);
    const concrete = (e: string) =>
      e
        .replaceAll('$endpoint', '.*')
        .replaceAll('$instance', '.*')
        .replaceAll('$__rate_interval', '10s')
        .replaceAll('$__range', '1m');
    // This Prometheus scrapes text (no native histograms): native-only expressions are proven in
    // fleetPercentiles.test.ts against a Prometheus that scrapes them.
    for (const { panel, expr } of exprs.filter((e) => !nativeOnly(e.expr))) {
      const result = await waitFor(
        `data for "${panel}": ${expr}`,
        async () => {
          const r = await query(concrete(expr));
          return r.length > 0 ? r : undefined;
        },
        45_000, // recording rules run every 30 s: the SLO panel may wait for their first round
      );
      expect(result.length, panel).toBeGreaterThan(0);
    }
  });

  it('evaluates the recording rules from live data', async () => {
    for (const rule of ['downloader:sli_errors:ratio_rate5m', 'downloader:sli_slow:ratio_rate5m', 'downloader:requests:rate1h']) {
      const r = await waitFor(rule, async () => {
        const x = (await query(rule)) as { value: [number, string] }[];
        return x.length ? x : undefined;
      });
      expect(Number(r[0]?.value[1])).not.toBeNaN();
    }
  });

  it("delivers the original error-rate alert through Alertmanager to the webhook, on the ticket route (it counts callers' errors, so it never pages)", async () => {
    const hit = await waitFor(
      'DownloaderHighErrorRate at the webhook',
      () =>
        notifications.find((n) =>
          n.body.alerts.some((a) => a.labels.alertname === 'DownloaderHighErrorRate' && a.status === 'firing'),
        ),
      60_000,
    );
    expect(hit.path).toBe('/tickets');
    expect(hit.body.alerts.find((a) => a.labels.alertname === 'DownloaderHighErrorRate')?.labels.severity).toBe('warning');
  });

  it('pages once when the downloader stops: DownloaderUnreachable pages, DownloaderDown is inhibited for the same pod', async () => {
    await sut.downloader.stop();
    const page = await waitFor(
      'DownloaderUnreachable at the pager',
      () =>
        notifications.find(
          (n) =>
            n.path === '/pager' &&
            n.body.alerts.some((a) => a.labels.alertname === 'DownloaderUnreachable' && a.status === 'firing'),
        ),
      60_000,
    );
    expect(page.body.alerts.every((a) => a.labels.alertname !== 'DownloaderDown')).toBe(true);
    type AmAlert = { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } };
    const down = await waitFor(
      'DownloaderDown in Alertmanager, inhibited',
      async () => {
        const alerts = await getJson<AmAlert[]>(`${amBase}/api/v2/alerts?filter=alertname%3D%22DownloaderDown%22`);
        return alerts.find((a) => a.status.state === 'suppressed' && a.status.inhibitedBy.length > 0);
      },
      30_000,
    );
    expect(down.labels.instance).toBe(
      page.body.alerts.find((a) => a.labels.alertname === 'DownloaderUnreachable')?.labels.instance,
    );
    await new Promise((r) => setTimeout(r, 3_000)); // several group intervals: still no page for DownloaderDown
    const pagedDown = notifications.filter((n) => n.body.alerts.some((a) => a.labels.alertname === 'DownloaderDown'));
    expect(pagedDown).toEqual([]);
  });
});
