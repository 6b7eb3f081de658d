import { spawn } from 'node:child_process';

/** A third-party server (Prometheus, Alertmanager) started for a test; its output is kept for failures. */
export function spawnServer(cmd: string, args: string[]) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return { child, output: () => out, stop: () => child.kill('SIGKILL') };
}

export type SpawnedServer = ReturnType<typeof spawnServer>;
