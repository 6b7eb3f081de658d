import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { repoRoot } from '@dl/testkit';
import { describe, expect, it } from 'vitest';

function run(service: 'downloader' | 'exporter', env: Record<string, string>) {
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'dist', `${service}.mjs`)], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  const stderr = r.stderr.trim();
  return { code: r.status, stderr, stdout: r.stdout.trim(), reason: reasonOf(service, stderr) };
}

/** The refusal is one JSON line (as every log line): fatal, the service's name, the reason in `msg`. */
function reasonOf(service: string, stderr: string): string {
  expect(stderr.split('\n')).toHaveLength(1);
  const line = JSON.parse(stderr) as { level: string; service: string; msg: string; time: string };
  expect(line).toMatchObject({ level: 'fatal', service });
  expect(Date.parse(line.time)).not.toBeNaN();
  return line.msg;
}

describe('bad configuration stops start-up with one line naming the variable', () => {
  it.each([
    ['downloader', { PORT: 'abc' }, 'Invalid configuration: PORT="abc": expected a TCP port between 1 and 65535'],
    [
      'downloader',
      { EVENTS_TRANSPORT: 'kafka' },
      'Invalid configuration: EVENTS_TRANSPORT="kafka": expected one of socket, redis, off',
    ],
    [
      'downloader',
      { EVENTS_BUFFER_EVENTS: '0' },
      'Invalid configuration: EVENTS_BUFFER_EVENTS="0": expected an integer between 1 and 10000000',
    ],
    [
      'downloader',
      { EVENTS_BUFFER_EVENTS: '25000' },
      'Invalid configuration: EVENTS_BUFFER_EVENTS=25000 is under 2 x EVENTS_PEAK_RATE x (EVENTS_FLUSH_MS + EVENTS_ACK_MS) = 30000 events',
    ],
    [
      'downloader',
      { EVENTS_ENCODING: 'ndjson', EVENTS_BUFFER_BYTES: '4500000' },
      'Invalid configuration: EVENTS_BUFFER_BYTES=4500000 is under 2 x EVENTS_PEAK_RATE x (EVENTS_FLUSH_MS + EVENTS_ACK_MS) = 30000 request events of 167 bytes = 5010000 bytes',
    ],
    [
      'downloader',
      { EVENTS_BUFFER_BYTES: '1500000' },
      'Invalid configuration: EVENTS_BUFFER_BYTES=1500000 is under 2 x EVENTS_PEAK_RATE x (EVENTS_FLUSH_MS + EVENTS_ACK_MS) = 30000 request events of 61 bytes = 1830000 bytes',
    ],
    ['downloader', { EVENTS_ENCODING: 'gzip' }, 'Invalid configuration: EVENTS_ENCODING="gzip": expected one of binary, ndjson'],
    ['downloader', { EVENTS_ACK_MS: '0' }, 'Invalid configuration: EVENTS_ACK_MS="0": expected an integer between 1 and 1000'],
    [
      'downloader',
      { CONVERT_TIMEOUT_S: '0' },
      'Invalid configuration: CONVERT_TIMEOUT_S="0": expected a number of seconds between 0.1 and 600',
    ],
    [
      'downloader',
      { CONVERT_HEAP_MB: '16' },
      'Invalid configuration: CONVERT_HEAP_MB="16": expected an integer between 32 and 16384',
    ],
    [
      'downloader',
      { EVENTS_PEAK_RATE: 'fast' },
      'Invalid configuration: EVENTS_PEAK_RATE="fast": expected an integer between 1 and 10000000',
    ],
    [
      'exporter',
      { EVENTS_ACK_MS: '5000' },
      'Invalid configuration: EVENTS_ACK_MS="5000": expected an integer between 1 and 1000',
    ],
    [
      'downloader',
      { DOWNLOADER_KEY: '' },
      'Invalid configuration: DOWNLOADER_KEY="": an empty secret would turn authentication off; unset it or give a secret',
    ],
    [
      'downloader',
      { WEBHOOK_SECRET: '' },
      'Invalid configuration: WEBHOOK_SECRET="": an empty secret would turn authentication off; unset it or give a secret',
    ],
    [
      'downloader',
      { PORT: '8123', ADMIN_PORT: '8123' },
      'Invalid configuration: ADMIN_PORT=8123 is also PORT: the admin listener must never share the public port',
    ],
    [
      'downloader',
      { EVENTS_TRANSPORT: 'redis' },
      'Invalid configuration: EVENTS_TRANSPORT="redis" needs REDIS_URL (a redis:// URL)',
    ],
    [
      'exporter',
      { METRICS_TOKEN: '' },
      'Invalid configuration: METRICS_TOKEN="": an empty secret would turn authentication off; unset it or give a secret',
    ],
    [
      'exporter',
      { EVENTS_SOCKET: `/tmp/${'s'.repeat(120)}.sock` },
      'Invalid configuration: EVENTS_SOCKET is 130 bytes long; a unix socket path holds at most 107',
    ],
    [
      'exporter',
      { EXPORTER_PORT: '99999' },
      'Invalid configuration: EXPORTER_PORT="99999": expected a TCP port between 1 and 65535',
    ],
    [
      'exporter',
      { EVENTS_SOCKET_MODE: 'rw' },
      'Invalid configuration: EVENTS_SOCKET_MODE="rw": expected an octal file mode such as 0600',
    ],
    [
      'downloader',
      { RATELIMIT_DOWNLOAD_LIMIT: '60/min' },
      'Invalid configuration: RATELIMIT_DOWNLOAD_LIMIT="60/min": expected a rate such as 60/minute (per second, minute, hour or day)',
    ],
    [
      'downloader',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
      'Invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318": expected a URL (http, https)',
    ],
    [
      'downloader',
      { OTEL_TRACES_SAMPLER_ARG: '1.5' },
      'Invalid configuration: OTEL_TRACES_SAMPLER_ARG="1.5": expected a number between 0 and 1',
    ],
    [
      'downloader',
      { LOG_LEVEL: 'verbose' },
      'Invalid configuration: LOG_LEVEL="verbose": expected one of fatal, error, warn, info, debug, trace, silent',
    ],
    [
      'exporter',
      { EVENTS_GARBAGE_BYTES_PER_S: '1MiB' },
      'Invalid configuration: EVENTS_GARBAGE_BYTES_PER_S="1MiB": expected an integer between 0 and 1073741824',
    ],
    [
      'exporter',
      { SERIES_TTL: 'soon' },
      'Invalid configuration: SERIES_TTL="soon": expected a number of seconds between 1 and 604800',
    ],
  ] as const)('%s with %o', (service, env, line) => {
    const r = run(service, env);
    expect(r.code).toBe(1);
    expect(r.reason).toBe(line);
    expect(r.stdout).toBe('');
  });

  it('the exporter refuses a socket path held by a live exporter', async () => {
    const { ExporterUnderTest } = await import('@dl/testkit');
    const live = await new ExporterUnderTest().start();
    try {
      const r = run('exporter', { EVENTS_SOCKET: live.socketPath, EXPORTER_PORT: '1' });
      expect(r.code).toBe(1);
      expect(r.reason).toContain('is in use by another live process');
    } finally {
      await live.stop();
    }
  });
});

describe('the exporter and its heap', () => {
  it('refuses a SERIES_LIMIT its heap cannot hold: one line naming the variable', () => {
    const r = run('exporter', { SERIES_LIMIT: '100000', NODE_OPTIONS: '--max-old-space-size=96' });
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(
      /^Invalid configuration: SERIES_LIMIT=100000 needs about 814 MiB of heap and the heap limit is \d+ MiB; lower it or raise --max-old-space-size$/,
    );
  });
});

describe('the exporter and its socket directory', () => {
  it('refuses to listen in a directory open to others: one line, exit 1', () => {
    const dir = mkdtempSync(resolve(tmpdir(), 'open-dir-'));
    chmodSync(dir, 0o777);
    try {
      const r = run('exporter', { EVENTS_SOCKET: resolve(dir, 'events.sock'), EXPORTER_PORT: '1' });
      expect(r.code).toBe(1);
      expect(r.reason).toBe(`cannot start: EVENTS_SOCKET: ${dir} is open to others (mode 777; it must be 700)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an HTTP port already in use: one line naming it, exit 1', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as net.AddressInfo).port;
    const dir = mkdtempSync(resolve(tmpdir(), 'port-taken-'));
    chmodSync(dir, 0o700);
    try {
      const r = run('exporter', {
        EVENTS_SOCKET: resolve(dir, 'events.sock'),
        EXPORTER_PORT: String(port),
        EXPORTER_HOST: '127.0.0.1',
      });
      expect(r.code).toBe(1);
      expect(r.reason).toBe(`cannot listen on EXPORTER_HOST:EXPORTER_PORT 127.0.0.1:${port}: EADDRINUSE`);
    } finally {
      taken.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
