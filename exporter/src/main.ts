import { setPriority } from 'node:os';
import { createLogger, exitWith, loadConfigOrExit } from '@dl/shared';
import { serve } from '@hono/node-server';
import { loadExporterConfig } from './config.ts';
import { createExporter } from './exporter.ts';
import { createExporterApp } from './http/app.ts';
import { localFace } from './http/face.ts';

const fail: (message: string) => never = (message) => exitWith('exporter', message);
const config = loadConfigOrExit('exporter', () => loadExporterConfig(process.env));
const log = createLogger('exporter', config.LOG_LEVEL);

// Yield the CPU to the downloader when both want it: a sidecar shares its pod's cores, and the
// request path comes first. Raising one's own niceness needs no privilege.
try {
  setPriority(config.EXPORTER_NICE);
} catch {
  log.warn(`could not set niceness ${config.EXPORTER_NICE}; running at the default priority`);
}

const exporter = createExporter({ config, log: (message) => log.warn(message) });
try {
  await exporter.start();
} catch (err) {
  fail(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
}
// The HTTP surface shares this thread's event loop with ingest: requests take turns with the event
// socket (http/turns.ts) and renders are shared (http/shared.ts), so a storm of scrapers holds no
// turn of the loop for long. (A thread of its own cost 18 MiB of RSS on Node 24, 9 on Node 20.)
const app = createExporterApp(localFace(exporter), {
  token: config.METRICS_TOKEN,
  reuseMs: config.SCRAPE_REUSE_MS,
  logError: (m) => log.error(m),
});
const http = serve({ fetch: app.fetch, port: config.EXPORTER_PORT, hostname: config.EXPORTER_HOST }, (info) => {
  const base = `http://${config.EXPORTER_HOST}:${info.port}`;
  const source = {
    socket: config.EVENTS_SOCKET,
    redis: `Redis stream ${config.EVENTS_STREAM} (group ${config.EVENTS_GROUP})`,
    off: 'nothing (off)',
  };
  log.info({ events: source[config.EVENTS_TRANSPORT], metrics: `${base}/metrics`, dashboard: `${base}/dashboard` }, 'listening');
  // Under `npm start` the launcher waits for this before it starts the downloader.
  process.send?.('ready');
  process.channel?.unref();
});
http.on('error', (err: NodeJS.ErrnoException) =>
  fail(
    `cannot listen on EXPORTER_HOST:EXPORTER_PORT ${config.EXPORTER_HOST}:${config.EXPORTER_PORT}: ${err.code ?? err.message}`,
  ),
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  http.close();
  await exporter.stop();
  log.flush(() => process.exit(0));
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
