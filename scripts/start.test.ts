// `npm start` as a user runs it: both services with the flags and environment the images use, the
// downloader's events reaching the exporter, one SIGTERM stopping both; one service by name; an
// unknown name refused before anything is built or started.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort, logLines, parseMetrics, privateSocketPath, removeSocketDir, repoRoot, sumSamples, waitFor } from '@dl/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { NODE_FLAGS, SERVICE_ENV } from './nodeFlags.mjs';

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | string>;
}

function start(args: string[], env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['scripts/start.mjs', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, sig) => r(code ?? sig ?? -1)));
  return { child, output: () => out, exited };
}

/** The services the launcher runs (not its esbuild helper): each one's command line and environment. */
function servicesOf(pid: number): { args: string[]; env: string[] }[] {
  const pids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return pids
    .map((p) => ({
      args: readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean),
      env: readFileSync(`/proc/${p}/environ`, 'utf8').split('\0'),
    }))
    .filter((c) => /dist\/\w+\.mjs$/.test(c.args.at(-1) ?? ''));
}

const running: Started[] = [];
const sockets: string[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    s.child.kill('SIGTERM');
    await s.exited;
  }
  for (const s of sockets.splice(0)) removeSocketDir(s);
});

describe('npm start (scripts/start.mjs)', () => {
  it('runs the exporter, then the downloader sending it events, with their flags; one SIGTERM stops both with 0', async () => {
    const [port, adminPort, exporterPort] = [await freePort(), await freePort(), await freePort()];
    const socket = privateSocketPath('start');
    sockets.push(socket);
    const s = start([], {
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      EXPORTER_PORT: String(exporterPort),
      EVENTS_SOCKET: socket,
      DOWNLOADER_STATS_URL: `http://127.0.0.1:${adminPort}/internal/stats`,
    });
    running.push(s);
    await waitFor('the downloader', async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok || undefined, 60_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}\nwhat the services said:\n${s.output()}`);
      },
    );
    for (let i = 0; i < 2; i++) await fetch(`http://127.0.0.1:${port}/health`);
    // Three /health answers (the wait's attempts before the downloader listened were refused): the
    // exporter counts exactly three.
    const counted = await waitFor(
      'the exporter counting them',
      async () => {
        const m = parseMetrics(await (await fetch(`http://127.0.0.1:${exporterPort}/metrics`)).text());
        const n = sumSamples(m, 'downloader_requests_total', { endpoint: '/health' });
        return n >= 3 ? n : undefined;
      },
      10_000,
    );
    expect(counted).toBe(3);
    const children = servicesOf(s.child.pid as number);
    expect(children).toHaveLength(2);
    for (const [name, flags] of Object.entries(NODE_FLAGS)) {
      const c = children.find((x) => x.args.at(-1)?.endsWith(`dist/${name}.mjs`));
      expect(c?.args.slice(1, -1), name).toEqual(flags);
      for (const [k, v] of Object.entries(SERVICE_ENV[name as keyof typeof SERVICE_ENV]))
        expect(c?.env, name).toContain(`${k}=${v}`);
    }
    running.pop();
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const lines = logLines(s.output());
    expect(lines.find((l) => l.service === 'exporter' && l.msg === 'stopping')).toBeDefined();
    // The downloader's last word: its ledger, every event handed over and acknowledged.
    expect(lines.find((l) => l.service === 'downloader' && l.msg === 'stopped')).toMatchObject({
      emitted: 3,
      acknowledged: 3,
      dropped: 0,
    });
  }, 90_000);

  it('runs one service by name, as npm run start:<name> does', async () => {
    const { scripts } = JSON.parse(readFileSync(`${repoRoot}/package.json`, 'utf8')) as { scripts: Record<string, string> };
    for (const name of Object.keys(NODE_FLAGS)) expect(scripts[`start:${name}`]).toBe(`node scripts/start.mjs ${name}`);
    const exporterPort = await freePort();
    const socket = privateSocketPath('start-one');
    sockets.push(socket);
    const s = start(['exporter'], { EXPORTER_PORT: String(exporterPort), EVENTS_SOCKET: socket });
    running.push(s);
    await waitFor('the exporter', async () => (await fetch(`http://127.0.0.1:${exporterPort}/readyz`)).ok || undefined, 60_000);
    const children = servicesOf(s.child.pid as number);
    expect(children.map((c) => c.args.at(-1))).toEqual([expect.stringMatching(/dist\/exporter\.mjs$/)]);
  }, 90_000);

  it('refuses a service it does not know, in one line, exit 2', async () => {
    const s = start(['exportre'], {});
    expect(await s.exited).toBe(2);
    expect(s.output()).toBe('start: no service named exportre (downloader, exporter)\n');
  });
});
