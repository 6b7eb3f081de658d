// Runs the exporter and the downloader in the foreground. Ctrl-C (or SIGTERM) stops both cleanly;
// if either exits on its own, the other is stopped too and the exit code is passed on.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildAll } from './build.mjs';
import { NODE_FLAGS } from './nodeFlags.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
await buildAll();
const children = new Map();
let stopping = false;

function start(name, entry) {
  const child = spawn(process.execPath, [...NODE_FLAGS[name], entry], { cwd: root, stdio: 'inherit', env: process.env });
  children.set(name, child);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`start: ${name} exited (${signal ?? code}); stopping the rest`);
      stop('SIGTERM', code ?? 1);
    } else if (children.size === 0) {
      process.exit(process.exitCode ?? 0);
    }
  });
}

function stop(signal, code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  for (const child of children.values()) child.kill(signal);
  if (children.size === 0) process.exit(code);
}

process.on('SIGINT', () => stop('SIGTERM'));
process.on('SIGTERM', () => stop('SIGTERM'));

start('exporter', 'dist/exporter.mjs');
// Give the exporter a moment to create its socket so the downloader connects on the first try
// (it would buffer and retry anyway).
const socketPath = process.env.EVENTS_SOCKET || '/tmp/downloader-events.sock';
const waitUntil = Date.now() + 5000;
while ((process.env.EVENTS_TRANSPORT ?? 'socket') === 'socket' && !existsSync(socketPath) && Date.now() < waitUntil) {
  await new Promise((r) => setTimeout(r, 50));
}
if (!stopping) start('downloader', 'dist/downloader.mjs');
const port = process.env.PORT ?? '8000';
const exporterPort = process.env.EXPORTER_PORT ?? '9464';
setTimeout(() => {
  if (stopping) return;
  console.log(`
  downloader   http://127.0.0.1:${port}/health
  metrics      http://127.0.0.1:${exporterPort}/metrics
  performance  http://127.0.0.1:${exporterPort}/metrics/performance
  health       http://127.0.0.1:${exporterPort}/metrics/health-score
  dashboard    http://127.0.0.1:${exporterPort}/dashboard
  Ctrl-C stops both.`);
}, 1500).unref();
