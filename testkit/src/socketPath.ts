import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * A fresh event-socket path in a directory of its own, not yet created: the exporter creates it
 * (mode 700), as it does in production. `removeSocketDir` cleans up after.
 */
export function privateSocketPath(prefix: string): string {
  return join(tmpdir(), `${prefix}-${process.pid}-${Math.random().toString(36).slice(2)}`, 'events.sock');
}

export function removeSocketDir(socketPath: string): void {
  rmSync(dirname(socketPath), { recursive: true, force: true });
}
