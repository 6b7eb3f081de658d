import { parseMetrics } from './metricsText.ts';
import { freePort, type RunningProcess, startService, waitFor } from './processes.ts';
import { privateSocketPath, removeSocketDir } from './socketPath.ts';

/**
 * Suites read /metrics right after the thing they count happened: every render fresh, unless a suite
 * sets SCRAPE_REUSE_MS itself (concurrent scrapes still share one render; the app test covers reuse).
 */
const FRESH = { SCRAPE_REUSE_MS: '0' };

/** Starts the exporter on `port` and `socketPath`; resolves once `/readyz` answers 200. */
export async function launchExporter(port: number, socketPath: string, env: Record<string, string>): Promise<RunningProcess> {
  const p = startService('exporter', { EXPORTER_PORT: String(port), EVENTS_SOCKET: socketPath, ...FRESH, ...env });
  await waitFor(
    'exporter ready',
    async () => {
      if (p.child.exitCode !== null) throw new Error(`exporter exited: ${p.output()}`);
      return (await fetch(`http://127.0.0.1:${port}/readyz`)).ok || undefined;
    },
    20_000,
  );
  return p;
}

/** The exporter alone, on a free port and a fresh socket path, for feeding it raw lines. */
export class ExporterUnderTest {
  process!: RunningProcess;
  port = 0;
  readonly socketPath = privateSocketPath('exp-test');

  constructor(private readonly env: Record<string, string> = {}) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    this.process = startService('exporter', {
      ...FRESH,
      EXPORTER_PORT: String(this.port),
      EVENTS_SOCKET: this.socketPath,
      ...this.env,
    });
    const p = this.process;
    await waitFor(
      'exporter ready',
      async () => {
        if (p.child.exitCode !== null) throw new Error(`exporter exited: ${p.output()}`);
        return (await fetch(`${this.base}/readyz`)).ok || undefined;
      },
      20_000,
    );
    return this;
  }

  async metrics(): Promise<Map<string, number>> {
    return parseMetrics(await (await fetch(`${this.base}/metrics`)).text());
  }

  async stop(): Promise<void> {
    await this.process?.stop();
    removeSocketDir(this.socketPath);
  }
}
