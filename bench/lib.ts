import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import autocannon from 'autocannon';

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** A number read from each of a process's threads' /proc/PID/task/<tid>/<file>, summed; 0 once it is gone. */
function sumOverThreads(pid: number, file: string, read: (text: string) => number): number {
  let sum = 0;
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tasks) {
    try {
      sum += read(readFileSync(`/proc/${pid}/task/${tid}/${file}`, 'utf8'));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return sum;
}

/**
 * CPU time of every thread of a process, in seconds: the first field of each
 * /proc/PID/task/<tid>/schedstat (nanoseconds on a CPU, exact, unlike the 10 ms ticks of
 * /proc/PID/stat), summed. GC helpers, the libuv pool and worker threads all count.
 */
export const cpuSeconds = (pid: number): number => sumOverThreads(pid, 'schedstat', (t) => Number(t.split(' ')[0])) / 1e9;

/**
 * How many times a process's threads were woken: each thread's `voluntary_ctxt_switches` (it blocked,
 * for I/O or a timer, and ran again) from /proc/PID/task/<tid>/status, summed. On a VM a wakeup can
 * cost more than the work it wakes for, so the overhead benchmark counts them.
 */
export const wakeupsOf = (pid: number): number =>
  sumOverThreads(pid, 'status', (t) => Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(t)?.[1] ?? 0));

/**
 * Minor page faults of a process, every thread: field 10 of /proc/PID/stat. A VM that traps them
 * charges tens of microseconds each; an exporter's come mostly from V8 committing its young
 * generation's pages again after a scavenge (docs/benchmarks.md, 2026-12-02).
 */
export function faultsOf(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[7] ?? 0);
  } catch {
    return 0;
  }
}

/** CPU seconds of several processes together. */
export const cpuOf = (pids: readonly number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

export interface LoadResult {
  rps: number;
  p99Ms: number;
  requests: number;
  errors: number;
  cpuUsPerRequest: number;
}

const run = promisify(execFile);

async function hasWrk(): Promise<boolean> {
  return run('wrk', ['--version']).then(
    () => true,
    (e: { stdout?: string }) => Boolean(e.stdout?.includes('wrk')),
  );
}

/** Which load generator drives the HTTP benchmarks: wrk (C, light on CPU) when installed. */
export const loadGenerator = (await hasWrk()) ? 'wrk' : 'autocannon';

function wrkMs(text: string): number {
  const m = /([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

async function drive(url: string, seconds: number, connections: number) {
  if (loadGenerator === 'autocannon') {
    const r = await autocannon({ url, connections, duration: seconds });
    return { rps: r.requests.average, p99Ms: r.latency.p99, requests: r.requests.total, errors: r.errors + r.non2xx };
  }
  const args = ['-c', '0', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url];
  const { stdout } = await run('taskset', args);
  const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? 0);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p99Ms: wrkMs(/\s99%\s+(\S+)/.exec(stdout)?.[1] ?? ''),
    requests: num(/(\d+) requests in/),
    errors: num(/Non-2xx or 3xx responses: (\d+)/) + num(/Socket errors: connect (\d+)/),
  };
}

/**
 * Drives `url` for `seconds` (wrk on core 0, else autocannon) and reads the CPU use of the given
 * processes (every thread) around it.
 */
export async function load(
  url: string,
  pids: number | readonly number[],
  seconds: number,
  connections = 32,
): Promise<LoadResult> {
  const all = typeof pids === 'number' ? [pids] : pids;
  const cpu0 = cpuOf(all);
  const r = await drive(url, seconds, connections);
  const cpu = cpuOf(all) - cpu0;
  return { ...r, cpuUsPerRequest: (cpu / r.requests) * 1e6 };
}

export interface Row {
  benchmark: string;
  variant: string;
  value: string;
  ratio?: string;
  target?: string;
}

export function printTable(rows: Row[]): string {
  const head = ['benchmark', 'variant', 'median', 'ratio', 'target'];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${[r.benchmark, r.variant, r.value, r.ratio ?? '', r.target ?? ''].join(' | ')} |`),
  ];
  return lines.join('\n');
}

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
