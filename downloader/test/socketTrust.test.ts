// The downloader hands events only to a socket in a directory that is its user's own and closed to
// others. Here a stranger's listener waits in an open directory, and in another user's: the
// downloader serves its requests, never connects, and says why once.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, getJson, logLines, type RunningProcess, startService, waitFor } from '@dl/testkit';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'socket-trust-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function strangerAt(dir: string, mode: number, owner?: number) {
  mkdirSync(dir);
  chmodSync(dir, mode);
  const path = join(dir, 'events.sock');
  let connections = 0;
  const server: Server = createServer((s) => {
    connections++;
    s.resume();
  });
  await new Promise<void>((r) => server.listen(path, r));
  if (owner !== undefined) chownSync(dir, owner, owner);
  return { path, server, connections: () => connections };
}

async function downloaderOn(socket: string): Promise<{ p: RunningProcess; base: string; admin: string }> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const p = startService('downloader', { PORT: String(port), ADMIN_PORT: String(adminPort), EVENTS_SOCKET: socket });
  const base = `http://127.0.0.1:${port}`;
  await waitFor('downloader up', async () => ((await fetch(`${base}/health`).catch(() => undefined))?.ok ? true : undefined));
  return { p, base, admin: `http://127.0.0.1:${adminPort}` };
}

describe('a socket directory the downloader cannot trust', () => {
  const cases: [name: string, mode: number, owner: number | undefined, why: string][] = [
    ['open to others (mode 777)', 0o777, undefined, 'is open to others (mode 777; it must be 700)'],
  ];
  // Giving a directory to another user needs root (as CI runs); elsewhere the unit test covers the rule.
  if (process.getuid?.() === 0)
    cases.push([
      'owned by another user (uid 65534), mode 700',
      0o700,
      65534,
      "belongs to uid 65534, not to this process's uid 0",
    ]);
  it.each(cases)('%s: served, never connected, said once', async (name, mode, owner, why) => {
    const stranger = await strangerAt(join(root, name.replace(/\W+/g, '-')), mode, owner);
    const { p, base, admin } = await downloaderOn(stranger.path);
    try {
      for (let i = 0; i < 50; i++) expect((await fetch(`${base}/health`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 500)); // several reconnect attempts
      const stats = await getJson<{ telemetry: { emitted: number; acknowledged: number; connected: boolean } }>(
        `${admin}/internal/stats`,
      );
      expect(stats.telemetry.emitted).toBeGreaterThanOrEqual(50);
      expect(stats.telemetry.acknowledged).toBe(0);
      expect(stranger.connections()).toBe(0);
      const refusals = logLines(p.output())
        .map((l) => l.msg)
        .filter((msg) => msg.includes('not connecting to'));
      expect(refusals).toEqual([
        `telemetry: not connecting to ${stranger.path}: ${stranger.path.slice(0, -'/events.sock'.length)} ${why}`,
      ]);
    } finally {
      await p.stop();
      stranger.server.close();
    }
  });
});
