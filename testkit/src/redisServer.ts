import { spawn, spawnSync } from 'node:child_process';
import { freePort, type RunningProcess, waitFor } from './processes.ts';

/**
 * True when `name` is on PATH. When it is not: in CI (`CI=true`) this throws, so a missing install
 * fails the run; locally it warns loudly and the caller skips.
 */
export function requireBinary(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
  if (found) return true;
  if (process.env.CI === 'true') throw new Error(`${name} is not installed: .ci/run must install it`);
  console.warn(`\n!!! SKIPPING: ${name} is not installed; these tests did not run !!!\n`);
  return false;
}

/** A throwaway redis-server on a free port, nothing persisted, stopped by PID. */
export class RedisServer {
  port = 0;
  private proc: RunningProcess | undefined;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(port?: number): Promise<this> {
    this.port = port ?? (await freePort());
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    const exited = new Promise<number | string>((res) => child.once('exit', (code, sig) => res(code ?? sig ?? -1)));
    const pid = child.pid as number;
    this.proc = {
      child,
      pid,
      output: () => out,
      signal: (sig) => child.exitCode === null && child.signalCode === null && process.kill(pid, sig),
      exited,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        return exited;
      },
    };
    await waitFor(`redis-server on ${this.port}`, () => (out.includes('Ready to accept connections') ? true : undefined), 10_000);
    return this;
  }

  /** SIGKILL: the server vanishes as in a crash. */
  async kill(): Promise<void> {
    await this.proc?.stop();
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
  }
}
