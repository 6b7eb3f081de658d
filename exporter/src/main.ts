import { setPriority } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import { createLogger, exitWith, loadConfigOrExit } from '@dl/shared';
import { loadExporterConfig } from './config.ts';
import { createExporter } from './exporter.ts';
import { localFace, serveFace } from './http/face.ts';
import type { HttpWorkerData, HttpWorkerMessage } from './http/worker.ts';

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
// The HTTP surface runs on its own thread (http/worker.ts, bundled as exporterHttp.mjs beside this
// file) and asks this one for renders over a message channel: a storm of scrapers costs this event
// loop, where ingest runs, one render per view per reuse window and nothing else.
const channel = new MessageChannel();
serveFace(localFace(exporter), channel.port1);
const workerData: HttpWorkerData = {
  face: channel.port2,
  port: config.EXPORTER_PORT,
  hostname: config.EXPORTER_HOST,
  token: config.METRICS_TOKEN,
  reuseMs: config.SCRAPE_REUSE_MS,
};
const http = new Worker(new URL('./exporterHttp.mjs', import.meta.url), {
  workerData,
  transferList: [channel.port2],
  // Small heaps, as for the main thread (scripts/nodeFlags.mjs): it holds a few rendered bodies.
  resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 },
});
http.on('error', (err) => fail(`the HTTP thread failed: ${err.message}`));
http.on('message', (m: HttpWorkerMessage) => {
  if ('log' in m) {
    log.error(m.log);
    return;
  }
  if ('error' in m) fail(`cannot listen: ${m.error}`);
  const base = `http://${config.EXPORTER_HOST}:${m.listening}`;
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

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  await http.terminate();
  await exporter.stop();
  log.flush(() => process.exit(0));
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
