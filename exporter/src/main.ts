import { setPriority } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import { loadConfigOrExit } from '@dl/shared';
import { loadExporterConfig } from './config.ts';
import { createExporter } from './exporter.ts';
import { localFace, serveFace } from './http/face.ts';
import type { HttpWorkerData, HttpWorkerMessage } from './http/worker.ts';

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
http.on('error', (err) => fail(`exporter: the HTTP thread failed: ${err.message}`));
http.on('message', (m: HttpWorkerMessage) => {
  if ('error' in m) fail(`exporter: cannot listen: ${m.error}`);
  const base = `http://${config.EXPORTER_HOST}:${m.listening}`;
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

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`exporter: ${signal}, stopping`);
  await http.terminate();
  await exporter.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
