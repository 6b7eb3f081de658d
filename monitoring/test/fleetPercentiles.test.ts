import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ExporterUnderTest,
  freePort,
  getJson,
  lognormal,
  RawEventClient,
  requireBinary,
  type SpawnedServer,
  spawnServer,
  waitFor,
} from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { dashboard, nativeOnly } from '../grafana/dashboard.ts';

/**
 * Percentiles that merge across pods: three exporters with different latency distributions, one
 * Prometheus scraping them with native histograms (protobuf), one without (the classic buckets).
 */
const ok = requireBinary('prometheus');

const PODS = [
  { mu: Math.log(0.05), sigma: 0.6, seed: 11 }, // a fast pod, median 50 ms
  { mu: Math.log(0.2), sigma: 0.7, seed: 12 },
  { mu: Math.log(0.8), sigma: 0.5, seed: 13 }, // a slow pod, median 800 ms
];
const PER_POD = 20_000;
const SECONDS = 20;

const line = (ts: number, d: number) =>
  `{"v":1,"kind":"request","ts":${ts},"endpoint":"/{url}","method":"GET","status":200,"duration_s":${Math.round(d * 1e7) / 1e7}}\n`;

describe.skipIf(!ok)('fleet-wide percentiles: native histograms merge across pods, classic buckets do not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-'));
  const exporters = PODS.map(() => new ExporterUnderTest({ POLL_INTERVAL_S: '60' }));
  const servers: SpawnedServer[] = [];
  const bases: Record<'native' | 'classic', string> = { native: '', classic: '' };
  const samples: number[] = [];

  const query = async (base: string, expr: string): Promise<number | undefined> => {
    const r = await getJson<{ data: { result: { value: [number, string] }[] } }>(
      `${base}/api/v1/query?query=${encodeURIComponent(expr)}`,
    );
    const v = Number(r.data.result[0]?.value[1]);
    return Number.isFinite(v) ? v : undefined;
  };

  beforeAll(async () => {
    for (const e of exporters) await e.start();
    const targets = exporters.map((e) => `127.0.0.1:${e.port}`);
    for (const kind of ['native', 'classic'] as const) {
      const port = await freePort();
      bases[kind] = `http://127.0.0.1:${port}`;
      const config = join(dir, `${kind}.yml`);
      writeFileSync(
        config,
        stringify({
          global: { scrape_interval: '1s' },
          scrape_configs: [{ job_name: 'downloader', static_configs: [{ targets }] }],
        }),
      );
      servers.push(
        spawnServer('prometheus', [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(dir, `${kind}-tsdb`)}`,
          `--web.listen-address=127.0.0.1:${port}`,
          ...(kind === 'native' ? ['--enable-feature=native-histograms'] : []),
        ]),
      );
    }
    // One event per pod first, so every histogram exists and is scraped once before the real traffic.
    const clients = await Promise.all(exporters.map((e) => RawEventClient.connect(e.socketPath)));
    await Promise.all(clients.map((c) => c.write(line(Date.now(), 0.1))));
    for (const kind of ['native', 'classic'] as const) {
      await waitFor(
        `${kind} Prometheus scraped every pod's histogram`,
        async () =>
          (await query(bases[kind], 'count(count by (instance) (downloader_requests_total))')) === 3 ? true : undefined,
        60_000,
      );
    }
    await Promise.all(
      PODS.map(async (pod, i) => {
        const values = lognormal(PER_POD, pod.seed, pod.mu, pod.sigma);
        samples.push(...values);
        // Steady traffic over SECONDS scrapes, as in production, so each pod's rate has many samples.
        const chunk = PER_POD / SECONDS;
        for (let s = 0; s < SECONDS; s++) {
          const ts = Date.now();
          await clients[i]?.write(
            values
              .slice(s * chunk, (s + 1) * chunk)
              .map((v) => line(ts, v))
              .join(''),
          );
          await new Promise((r) => setTimeout(r, 1_000));
        }
        await clients[i]?.waitAcked(PER_POD + 1);
      }),
    );
    for (const c of clients) c.close();
  });

  afterAll(async () => {
    for (const s of servers) s.stop();
    for (const e of exporters) await e.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("histogram_quantile(0.99, sum(rate(...[1m]))) over three pods' native histograms is within 2 % of the exact p99 of every sample", async () => {
    const sorted = [...samples].sort((a, b) => a - b);
    const exact = sorted[Math.floor(0.99 * (sorted.length - 1))] as number;
    const native = await waitFor(
      'the native p99 over all pods',
      async () => {
        // Every pod's last scrape holds all its traffic (a partly scraped pod would shift the mix).
        const ready = await query(bases.native, `count(histogram_count(downloader_response_time_seconds) == ${PER_POD + 1})`);
        if (ready !== 3) return undefined;
        return query(bases.native, 'histogram_quantile(0.99, sum(rate(downloader_response_time_seconds[1m])))');
      },
      60_000,
    );
    const classic = await waitFor(
      'the classic p99 over all pods',
      async () => {
        const ready = await query(bases.classic, `count(downloader_response_time_seconds_count == ${PER_POD + 1})`);
        if (ready !== 3) return undefined;
        return query(bases.classic, 'histogram_quantile(0.99, sum by (le) (rate(downloader_response_time_seconds_bucket[1m])))');
      },
      60_000,
    );
    const error = (v: number) => Math.abs(v - exact) / exact;
    console.log(
      `fleet p99: exact ${exact.toFixed(6)} s, native ${native.toFixed(6)} s (${(100 * error(native)).toFixed(2)} %), classic buckets ${classic.toFixed(4)} s (${(100 * error(classic)).toFixed(2)} %)`,
    );
    expect(error(native)).toBeLessThan(0.02);
    expect(error(native)).toBeLessThan(error(classic));
  });

  it("answers the Grafana dashboard's native-histogram panels with data", async () => {
    const exprs = (dashboard.panels ?? []).flatMap((p) =>
      ('targets' in p ? (p.targets ?? []) : []).map((t) => (t as { expr: string }).expr),
    );
    const native = exprs.filter(nativeOnly);
    expect(native.length).toBeGreaterThan(0);
    for (const expr of native) {
      const concrete = expr.replaceAll('$endpoint', '.*').replaceAll('$instance', '.*').replaceAll('$__rate_interval', '1m');
      const v = await waitFor(`data for ${concrete}`, () => query(bases.native, concrete), 30_000);
      expect(v).toBeGreaterThan(0);
    }
  });
});
