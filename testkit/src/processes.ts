import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS, SERVICE_ENV } from '../../scripts/nodeFlags.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Ports for services under test are picked outside the kernel's ephemeral range, where every
 * outgoing connection takes its local port, in a block of its own for each test worker, and never
 * twice in one process. Asking the kernel for port 0 and releasing it (as this did) lets the port
 * go to another suite's connection, or back to the next call, before the service binds it: the
 * service then fails with EADDRINUSE, or a downloader gets the same PORT and ADMIN_PORT.
 */
const PORT_BLOCKS = 16;
const MIN_SPAN = PORT_BLOCKS * 64;

/**
 * The ports test services take, from `ip_local_port_range` ("low high"): 10,000 up to the range,
 * or above it to 65,535, whichever is larger (Linux's default 32768-60999 leaves 22,768 below);
 * an error naming the setting when neither holds 64 ports per worker block.
 */
export function testPortSpan(range: string): { first: number; size: number } {
  const [low = Number.NaN, high = Number.NaN] = range.trim().split(/\s+/).map(Number);
  if (!Number.isInteger(low) || !Number.isInteger(high))
    throw new Error(`net.ipv4.ip_local_port_range reads ${JSON.stringify(range)}, not two port numbers`);
  const below = { first: 10_000, size: low - 10_000 };
  const above = { first: high + 1, size: 65_535 - high };
  const span = below.size >= above.size ? below : above;
  if (!(span.size >= MIN_SPAN))
    throw new Error(
      `net.ipv4.ip_local_port_range is ${low} ${high}: tests need ${MIN_SPAN} ports outside it, from 10000 up or up to 65535`,
    );
  return span;
}

const SPAN = testPortSpan(
  (() => {
    try {
      return readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    } catch {
      return '32768 60999';
    }
  })(),
);
const PORT_BLOCK = Math.floor(SPAN.size / PORT_BLOCKS);
/** Vitest numbers its workers from 1 (their children inherit it); anything else takes block 0. */
const portBlock = process.env.VITEST_POOL_ID ? ((Number(process.env.VITEST_POOL_ID) - 1) % (PORT_BLOCKS - 1)) + 1 : 0;
/** Processes sharing a block (a worker and a child it starts) start at different places in it. */
let nextPort = (process.pid * 97) % PORT_BLOCK;

/** A port that no other test worker picks, free when picked, and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < PORT_BLOCK; tries++) {
    const port = SPAN.first + portBlock * PORT_BLOCK + (nextPort++ % PORT_BLOCK);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${SPAN.first + portBlock * PORT_BLOCK}+${PORT_BLOCK}`);
}

const canBind = (port: number) =>
  new Promise<boolean>((res) => {
    const srv = net.createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  signal(sig: NodeJS.Signals): void;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
}

/**
 * Starts a built service (`dist/<name>.mjs`, see testkit's globalSetup) exactly as `npm start` runs it,
 * except that a downloader's request-rate limits are off unless the test sets `RATELIMIT_ENABLED`:
 * tests and benchmarks send far more than 60 downloads a minute.
 */
export function startService(name: 'downloader' | 'exporter', env: Record<string, string>): RunningProcess {
  const defaults: Record<string, string> = { ...SERVICE_ENV[name], ...(name === 'downloader' ? { RATELIMIT_ENABLED: '0' } : {}) };
  const p = spawnNode([...NODE_FLAGS[name], resolve(repoRoot, 'dist', `${name}.mjs`)], { ...defaults, ...env }, name);
  // Every line a service writes must be a JSON log line: checked for every test that stops one.
  return {
    ...p,
    async stop(graceMs) {
      const result = await p.stop(graceMs);
      logLines(p.output(), name);
      return result;
    },
  };
}

/** One line of a service's log (pino): level, time, service, msg and the line's own fields. */
export interface LogLine {
  level: string;
  time: string;
  service: string;
  msg: string;
  [field: string]: unknown;
}

/**
 * Every complete line of a service's output, each parsed as the JSON log line it must be; throws
 * naming the first that is not. (A last line cut by SIGKILL has no newline and is left out.)
 */
export function logLines(output: string, service?: string): LogLine[] {
  const lines = output.split('\n').slice(0, -1);
  return lines.map((line) => {
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      throw new Error(`${service ?? 'a service'} wrote a line that is not JSON: ${line.slice(0, 300)}`);
    }
    if (typeof parsed.level !== 'string' || typeof parsed.msg !== 'string' || typeof parsed.time !== 'string')
      throw new Error(`${service ?? 'a service'} wrote a JSON line that is not a log line: ${line.slice(0, 300)}`);
    return parsed;
  });
}

/** Starts a TypeScript entry point with node + tsx (bench fixtures). The PID is the real process. */
export function startTs(entry: string, env: Record<string, string>): RunningProcess {
  return spawnNode(['--import', 'tsx', resolve(repoRoot, entry)], env, entry);
}

function spawnNode(args: string[], env: Record<string, string>, name: string): RunningProcess {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env, NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((res) => child.once('exit', (code, sig) => res(code ?? sig ?? -1)));
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const pid = child.pid;
  return {
    child,
    pid,
    output: () => out,
    signal: (sig) => {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, sig);
    },
    exited,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

export async function getJson<T = unknown>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}
