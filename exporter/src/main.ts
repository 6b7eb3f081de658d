import { setPriority } from 'node:os';
import { loadConfigOrExit } from '@dl/shared';
import { serve } from '@hono/node-server';
import { loadExporterConfig } from './config.ts';
import { createExporter } from './exporter.ts';
import { createExporterApp } from './http/app.ts';

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const config = loadConfigOrExit(() => loadExporterConfig(process.env));

// Yield the CPU to the downloader when both want it: a sidecar shares its pod's cores, and the
// request path comes first. Raising one's own niceness needs no privilege.
try {
  setPriority(config.EXPORTER_NICE);
} catch {
  console.error(`exporter: could not set niceness ${config.EXPORTER_NICE}; running at the default priority`);
}

const exporter = createExporter({ config });
try {
  await exporter.start();
} catch (err) {
  fail(`exporter: cannot start: ${err instanceof Error ? err.message : String(err)}`);
}
const app = createExporterApp(exporter, { token: config.METRICS_TOKEN, reuseMs: config.SCRAPE_REUSE_MS });
const server = serve({ fetch: app.fetch, port: config.EXPORTER_PORT, hostname: config.EXPORTER_HOST }, (info) => {
  const base = `http://${config.EXPORTER_HOST}:${info.port}`;
  const source = {
    socket: config.EVENTS_SOCKET,
    redis: `Redis stream ${config.EVENTS_STREAM} (group ${config.EVENTS_GROUP})`,
    off: 'nothing (off)',
  };
  console.log(`exporter: events from ${source[config.EVENTS_TRANSPORT]}`);
  console.log(`exporter: ${base}/metrics  ${base}/metrics/health-score  ${base}/dashboard`);
  // Under `npm start` the launcher waits for this before it starts the downloader.
  process.send?.('ready');
  process.channel?.unref();
});
server.on('error', (err: NodeJS.ErrnoException) => fail(`exporter: cannot listen: ${err.code ?? ''} ${err.message}`));

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`exporter: ${signal}, stopping`);
  server.close();
  await exporter.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
