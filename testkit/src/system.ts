import { launchExporter } from './exporterProcess.ts';
import { parseMetrics, sumSamples } from './metricsText.ts';
import { freePort, getJson, type RunningProcess, startService, waitFor } from './processes.ts';
import { privateSocketPath, removeSocketDir } from './socketPath.ts';

export interface Ledger {
  emitted: number;
  acknowledged: number;
  dropped: number;
  buffered: number;
  connected: boolean;
  connects: number;
}

/** One downloader and one exporter on free ports, talking over a socket in a fresh temp path. */
export class SystemUnderTest {
  downloader!: RunningProcess;
  exporter: RunningProcess | undefined;
  readonly socketPath = privateSocketPath('dl-test');
  port = 0;
  adminPort = 0;
  exporterPort = 0;

  constructor(
    private readonly downloaderEnv: Record<string, string> = {},
    private readonly exporterEnv: Record<string, string> = {},
  ) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get metricsBase(): string {
    return `http://127.0.0.1:${this.exporterPort}`;
  }

  async start(): Promise<this> {
    [this.port, this.adminPort, this.exporterPort] = await Promise.all([freePort(), freePort(), freePort()]);
    await this.startExporter();
    await this.startDownloader();
    // The exporter starts first, so its first poll of the downloader failed; until one succeeds its
    // health score says `down`. A suite starts once the exporter has seen the downloader.
    await waitFor(
      'the exporter polling the downloader',
      async () => sumSamples(await this.metrics(), 'downloader_component_up', { component: 'downloader' }) === 1 || undefined,
      10_000,
    );
    return this;
  }

  /** Starts (or restarts after `downloader.stop()`) the downloader on the same ports. */
  async startDownloader(): Promise<void> {
    this.downloader = startService('downloader', {
      PORT: String(this.port),
      HOST: '127.0.0.1',
      ADMIN_PORT: String(this.adminPort),
      EVENTS_SOCKET: this.socketPath,
      ...this.downloaderEnv,
    });
    // Readiness through the admin listener: it is not user traffic, so counts start at zero.
    await waitFor('emitter connected', async () => (await this.ledger()).connected || undefined, 20_000);
  }

  async startExporter(): Promise<RunningProcess> {
    this.exporter = await launchExporter(this.exporterPort, this.socketPath, {
      DOWNLOADER_STATS_URL: `http://127.0.0.1:${this.adminPort}/internal/stats`,
      ...this.exporterEnv,
    });
    return this.exporter;
  }

  ledger(): Promise<Ledger> {
    return getJson<{ telemetry: Ledger }>(`http://127.0.0.1:${this.adminPort}/internal/stats`).then((s) => s.telemetry);
  }

  async metrics(): Promise<Map<string, number>> {
    const res = await fetch(`${this.metricsBase}/metrics`);
    if (!res.ok) throw new Error(`/metrics: HTTP ${res.status}`);
    return parseMetrics(await res.text());
  }

  /** Waits until the emitter holds nothing unacknowledged. */
  settled(timeoutMs = 15_000): Promise<Ledger> {
    return waitFor(
      'emitter ledger to settle',
      async () => {
        const l = await this.ledger();
        return l.buffered === 0 && l.connected ? l : undefined;
      },
      timeoutMs,
    );
  }

  async json<T>(path: string): Promise<T> {
    return getJson<T>(`${this.metricsBase}${path}`);
  }

  async stop(): Promise<void> {
    await Promise.all([this.downloader?.stop(), this.exporter?.stop()]);
    removeSocketDir(this.socketPath);
  }
}

export interface LoneDownloader {
  readonly proc: RunningProcess;
  readonly base: string;
  readonly adminBase: string;
}

/** A downloader alone (telemetry off, no exporter) on free ports: a replica, for tests of what replicas share. */
export async function startLoneDownloader(env: Record<string, string>): Promise<LoneDownloader> {
  const [port, adminPort] = await Promise.all([freePort(), freePort()]);
  const proc = startService('downloader', {
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_PORT: String(adminPort),
    EVENTS_TRANSPORT: 'off',
    ...env,
  });
  const adminBase = `http://127.0.0.1:${adminPort}`;
  await waitFor('downloader up', async () => (await fetch(`${adminBase}/internal/stats`)).ok || undefined, 20_000);
  return { proc, base: `http://127.0.0.1:${port}`, adminBase };
}
