// Runs the exporter and the downloader in the foreground (or the one named: `start.mjs exporter`),
// with the flags and environment of scripts/nodeFlags.mjs. Ctrl-C (or SIGTERM) stops both cleanly;
// if either exits on its own, the other is stopped too and the exit code is passed on.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildAll } from './build.mjs';
import { NODE_FLAGS, SERVICE_ENV } from './nodeFlags.mjs';

const only = process.argv[2];
if (only !== undefined && !(only in NODE_FLAGS)) {
  console.error(`start: no service named ${only} (${Object.keys(NODE_FLAGS).join(', ')})`);
  process.exit(2);
}
const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
await buildAll();
const children = new Map();
let stopping = false;

function start(name, entry) {
  const child = spawn(process.execPath, [...NODE_FLAGS[name], entry], {
    cwd: root,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...SERVICE_ENV[name], ...process.env },
  });
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
  return child;
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

// The exporter says 'ready' (over an IPC channel) once its socket and HTTP port are open, so the
// downloader connects on its first try (it would buffer and retry anyway). Each process prints its
// own URLs: no port or path is repeated here.
if (only !== 'downloader') {
  const exporter = start('exporter', 'dist/exporter.mjs');
  if (only === undefined)
    await new Promise((resolve) => {
      exporter.once('message', resolve);
      exporter.once('exit', resolve);
      setTimeout(resolve, 5000).unref();
    });
}
if (only !== 'exporter' && !stopping) start('downloader', 'dist/downloader.mjs');
