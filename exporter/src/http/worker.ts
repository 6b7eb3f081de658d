/**
 * The exporter's HTTP surface on a thread of its own. Parsing, routing and writing the answers of
 * hundreds of scrapers happen here, so the main thread's event loop (ingest, aggregation, polls)
 * only ever renders, and at most once per view per reuse window (app.ts shares renders).
 */
import { getPriority, setPriority } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import { parentPort, workerData } from 'node:worker_threads';
import { serve } from '@hono/node-server';
import { createExporterApp } from './app.ts';
import { remoteFace } from './face.ts';

export interface HttpWorkerData {
  face: MessagePort;
  port: number;
  hostname: string;
  token: string | undefined;
  reuseMs: number;
}

/** What the thread tells the main one: where it listens, or why it cannot. */
export type HttpWorkerMessage = { listening: number } | { error: string } | { log: string };

const data = workerData as HttpWorkerData;
// Linux gives each thread its own niceness (setpriority on pid 0 is this thread): when serving and
// ingest want the same core, ingest wins. Five steps make this thread's share a third of the main one's.
try {
  setPriority(Math.min(19, getPriority() + 5));
} catch {
  // Not permitted (or not Linux): both threads keep the process's niceness.
}
const tell = (m: HttpWorkerMessage) => parentPort?.postMessage(m);
const app = createExporterApp(remoteFace(data.face), {
  token: data.token,
  reuseMs: data.reuseMs,
  logError: (log) => tell({ log }),
});
const server = serve({ fetch: app.fetch, port: data.port, hostname: data.hostname }, (info) => tell({ listening: info.port }));
server.on('error', (err: NodeJS.ErrnoException) => tell({ error: `${err.code ?? ''} ${err.message}`.trim() }));
