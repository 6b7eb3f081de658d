// The exporter against clients that mean harm or are merely careless, as the issue measured them:
// write-and-close clients lose nothing, garbage writers are held to a budget and cannot grow its
// memory without bound, and a scrape storm neither times scrapes out nor stalls ingest.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { ExporterUnderTest, RawEventClient, sumSamples, waitFor } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const request = (endpoint: string) =>
  `${JSON.stringify({ v: 1, kind: 'request', ts: Date.now(), endpoint, method: 'GET', status: 200, duration_s: 0.01 })}\n`;

/** Resident memory, all of it or (`RssAnon`) what the kernel cannot reclaim by dropping file pages. */
const rssBytes = (pid: number, field: 'VmRSS' | 'RssAnon' = 'VmRSS') => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
};

describe('clients that write and close at once', () => {
  const exp = new ExporterUnderTest();
  beforeAll(() => exp.start());
  afterAll(() => exp.stop());

  it('40 clients x 10,000 lines: all 400,000 counted, each unfinished last line counted as truncated', async () => {
    const clients = 40;
    const perClient = 10_000;
    const body = request('/write-and-close').repeat(perClient);
    await Promise.all(
      Array.from({ length: clients }, async () => {
        const c = await RawEventClient.connect(exp.socketPath);
        c.close(`${body}{"v":1,"kind":"req`);
      }),
    );
    const m = await waitFor(
      'every line counted',
      async () => {
        const x = await exp.metrics();
        return sumSamples(x, 'exporter_events_rejected_total', { reason: 'truncated' }) >= clients ? x : undefined;
      },
      30_000,
    );
    expect(sumSamples(m, 'downloader_requests_total', { endpoint: '/write-and-close' })).toBe(clients * perClient);
    expect(sumSamples(m, 'exporter_events_rejected_total')).toBe(clients);
  });
});

/**
 * What each garbage client sends, over and over, as fast as the socket takes it: nothing valid.
 * (Valid events for ever new endpoints are not garbage: the series cap bounds them, and the
 * cardinality benchmark measures that memory.)
 */
const GARBAGE: ((i: number) => Buffer)[] = [
  () => Buffer.from(Array.from({ length: 64 * 1024 }, () => Math.floor(Math.random() * 256))), // random bytes
  () => Buffer.alloc(256 * 1024, 0x61), // one endless line, no newline ever
  (i) => Buffer.from(request(`/bad/${i}`).replace('"status":200', '"status":"200"').repeat(50)), // valid JSON, bad field
  () => Buffer.from('\n'.repeat(64 * 1024)), // empty lines
  () => Buffer.from(`{"v":1,"kind":"request","ts":1,"endpoint":"${'x'.repeat(7_000)}"}\n`.repeat(8)), // near the line limit
];

describe('20 garbage clients for 20 s', () => {
  const exp = new ExporterUnderTest();
  beforeAll(() => exp.start());
  afterAll(() => exp.stop());

  // Garbage must not grow memory without bound (205-270 MiB before: uncollected garbage in an
  // uncapped heap, a 20 MiB parsed source map, one malloc arena per thread, dead socket reads kept in
  // the main malloc arena). Node 20: idle 66 MiB, peak 76-77. Node 24 starts at 74-77 MiB (its binary
  // is larger) and peaked at 93-97 over its first runs with read buffers in mappings of their own
  // (98-113 before): 100 MiB on every line, and 32 MiB over idle (docs/benchmarks.md, "Hostile clients").
  const growth = 32;
  it(`keep the exporter within ${growth} MiB of idle and 100 MiB, and a clean client is still counted exactly`, async () => {
    await new Promise((r) => setTimeout(r, 1_000));
    const idle = rssBytes(exp.process.pid);
    const until = Date.now() + 20_000;
    let peak = 0;
    let peakAnon = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssBytes(exp.process.pid));
      peakAnon = Math.max(peakAnon, rssBytes(exp.process.pid, 'RssAnon'));
    }, 100);
    const writers = Array.from({ length: 20 }, async (_, i) => {
      const socket = net.createConnection(exp.socketPath);
      await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
      if (i % 2 === 0) socket.pause(); // half never read their acknowledgements
      socket.on('error', () => {});
      const make = GARBAGE[i % GARBAGE.length] as (i: number) => Buffer;
      let n = 0;
      while (Date.now() < until && !socket.destroyed) {
        if (!socket.write(make(n++))) await new Promise((r) => socket.once('drain', r));
      }
      socket.destroy();
    });
    await Promise.all(writers);
    clearInterval(sampler);
    // A client held to its budget is paused for up to a second, its last writes still unread in the
    // kernel: they are read (and rejected) after it has gone. Count from when every garbage
    // connection has been read to its end and closed.
    const before = await waitFor(
      'every garbage connection read to its end',
      async () => {
        const m = await exp.metrics();
        return sumSamples(m, 'exporter_socket_connections') === 0 ? m : undefined;
      },
      10_000,
    );
    const clean = await RawEventClient.connect(exp.socketPath);
    await clean.write(request('/clean').repeat(1_000));
    await clean.waitAcked(1_000);
    clean.close();
    const m = await exp.metrics();
    const delta = (name: string) => sumSamples(m, name) - sumSamples(before, name);
    expect(sumSamples(m, 'downloader_requests_total', { endpoint: '/clean' })).toBe(1_000);
    expect(delta('exporter_events_rejected_total')).toBe(0);
    expect(sumSamples(m, 'exporter_events_rejected_total')).toBeGreaterThan(100_000); // the garbage did arrive
    expect(sumSamples(m, 'exporter_socket_throttled_total')).toBeGreaterThan(0); // and was held to its budget
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    console.log(
      `garbage clients: exporter RSS idle ${mib(idle)} MiB, peak ${mib(peak)} MiB, anonymous peak ${mib(peakAnon)} MiB (Node ${process.version})`,
    );
    expect(idle).toBeGreaterThan(0);
    expect(peak - idle).toBeLessThanOrEqual(growth * 2 ** 20);
    expect(peak).toBeLessThanOrEqual(100 * 2 ** 20);
    // On every line, what a container's memory limit cannot reclaim (the binary's file pages it can).
    expect(peakAnon).toBeGreaterThan(0);
    expect(peakAnon).toBeLessThanOrEqual(100 * 2 ** 20);
  });
});

/** 200 scrapers in a process of their own, so their work never stalls the ingest measurement here. */
const SCRAPERS = `
const http = require('node:http');
const { gunzipSync } = require('node:zlib');
const [base, n, ms] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const agent = new http.Agent({ keepAlive: true, maxSockets: n });
const views = ['/metrics', '/metrics/performance', '/metrics/live'];
const times = { '/metrics': [], '/metrics/performance': [], '/metrics/live': [] };
let failures = 0;
// The exporter's own longest event-loop stall, as each /metrics render reports it (since the render before).
let lagMax = 0;
let lagSeen = 0;
const LAG = '\\nnodejs_eventloop_lag_max_seconds ';
const until = Date.now() + ms;
// After the first second, as the acknowledgement gaps are measured (the first renders compile).
const warm = Date.now() + 1000;
// As Prometheus scrapes: keep-alive, gzip asked for and unpacked.
const get = (path) => new Promise((resolve) => {
  http.get(base + path, { agent, headers: { 'accept-encoding': 'gzip' } }, (res) => {
    const parts = [];
    res.on('data', (d) => parts.push(d));
    res.on('end', () => {
      const body = Buffer.concat(parts);
      try {
        const text = res.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
        const at = text.indexOf(LAG);
        if (at >= 0 && Date.now() > warm) {
          lagMax = Math.max(lagMax, Number(text.toString('latin1', at + LAG.length, text.indexOf(10, at + 1))));
          lagSeen++;
        }
      } catch { failures++; }
      resolve(res.statusCode === 200);
    });
  }).on('error', () => resolve(false));
});
Promise.all(Array.from({ length: n }, async (_, i) => {
  const view = views[i % views.length];
  while (Date.now() < until) {
    const t = performance.now();
    if (!(await get(view))) failures++;
    times[view].push(performance.now() - t);
  }
})).then(() => process.stdout.write(JSON.stringify({ times, failures, lagMax, lagSeen })));
`;

describe('a scrape storm while events flow', () => {
  // The default reuse window: concurrent scrapes of one view share one render. Acknowledgements every
  // 20 ms (the default is 100) make their gaps a fine measure of ingest stalls.
  const exp = new ExporterUnderTest({ SCRAPE_REUSE_MS: '250', EVENTS_ACK_MS: '20' });
  beforeAll(() => exp.start());
  afterAll(() => exp.stop());

  // Before: /metrics p99 10.9 s (Prometheus's 10 s scrape timeout fails), 470 ms stalls of ingest.
  // A stall is measured twice, neither by a clock that can be starved itself: the exporter's own
  // longest event-loop delay (each /metrics render reports it since the render before), and the
  // longest gap between acknowledgements less the time this process's own timers fired late (on a
  // 2-core machine shared with 200 scrapers it is often late by tens of milliseconds: the raw gaps
  // read 43-81 ms while the exporter's loop never stalled more than 15 ms) or the exporter's main
  // thread waited for a core, whichever is longer (a CI run read 53 ms less this process's lateness
  // alone, with the exporter's loop delay at 56).
  it('200 scrapers for 20 s: every scrape answered, /metrics p99 under 1 s, no ingest stall over 50 ms', async () => {
    // Series enough to make /metrics a real render.
    const seed = await RawEventClient.connect(exp.socketPath);
    let lines = '';
    for (let e = 0; e < 300; e++) lines += request(`/seed/${e}`);
    await seed.write(lines);
    await seed.waitAcked(300);

    // The scrapers run as a process of the exporter's niceness, so neither starves the other.
    const scrapers = spawn('nice', ['-n', '10', process.execPath, '-e', SCRAPERS, exp.base, '200', '20000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    scrapers.stdout.on('data', (d) => (out += d));
    const result = new Promise<{ times: Record<string, number[]>; failures: number; lagMax: number; lagSeen: number }>((r) =>
      scrapers.once('close', () => r(JSON.parse(out))),
    );
    // Ingest: a batch every 5 ms; the exporter acknowledges at least every 20 ms while lines
    // arrive, so the longest gap between acknowledgements, less those 20 ms, is the longest stall.
    const feeder = await RawEventClient.connect(exp.socketPath);
    let sent = 0;
    let lastAckAt = performance.now();
    let longestGap = 0;
    // This process's own lateness (its timers firing late on the busy machine) since the last
    // acknowledgement: a gap it caused itself is not the exporter's stall.
    let ownLate = 0;
    // And the time the exporter's main thread waited for a core since then (the second field of its
    // schedstat): a gap the machine caused is not the exporter's stall either. Where both waited,
    // the larger is taken off, as the two may overlap.
    const waitingMs = () =>
      Number(readFileSync(`/proc/${exp.process.pid}/task/${exp.process.pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
    let waitedAtAck = waitingMs();
    let longestOwnGap = 0;
    let longestOwnGapWait = 0;
    const started = performance.now();
    // Timed as each acknowledgement is read, not when the loop below next looks: reads wake this
    // process at once, a look would add up to one sleep and one write to every gap.
    feeder.onAck = (_, at) => {
      const waited = waitingMs();
      const excused = Math.max(ownLate, waited - waitedAtAck);
      if (at - started > 1_000) {
        longestGap = Math.max(longestGap, at - lastAckAt); // after warm-up
        if (at - lastAckAt - excused > longestOwnGap) {
          longestOwnGap = at - lastAckAt - excused;
          longestOwnGapWait = waited - waitedAtAck;
        }
      }
      lastAckAt = at;
      waitedAtAck = waited;
      ownLate = 0;
    };
    const batch = request('/during-storm').repeat(20);
    while (performance.now() - started < 20_000) {
      await feeder.write(batch);
      sent += 20;
      const before = performance.now();
      await new Promise((r) => setTimeout(r, 5));
      ownLate += Math.max(0, performance.now() - before - 5);
    }
    feeder.onAck = undefined;
    const { times, failures, lagMax, lagSeen } = await result;
    await feeder.waitAcked(sent);
    const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.ceil(q * xs.length) - 1] ?? Number.NaN;
    const summary = Object.entries(times).map(([v, xs]) => `${v} n=${xs.length} p99=${p(xs, 0.99).toFixed(0)}ms`);
    console.log(
      `scrape storm: ${summary.join(', ')}; longest gap between acknowledgements less 20 ms ${(longestGap - 20).toFixed(0)} ms (${(longestOwnGap - 20).toFixed(0)} ms less this process's lateness or the exporter's wait for a core, ${longestOwnGapWait.toFixed(0)} ms of which it waited in that gap); the exporter's longest event-loop stall ${(lagMax * 1000).toFixed(0)} ms`,
    );
    expect(failures).toBe(0);
    expect(times['/metrics']?.length).toBeGreaterThan(200);
    expect(p(times['/metrics'] ?? [], 0.99)).toBeLessThanOrEqual(1_000);
    expect(lagSeen).toBeGreaterThan(100);
    // The loop's delay counts the time the exporter waited for a core too (the scrapers share its
    // niceness on two cores), which no process here can take off: a slow VM read 51 ms where the
    // acknowledgement gaps, less this process's lateness, read 49 (and 15 on a fast one). So it is
    // the coarse check, twice the stall bound; the gaps below are the 50 ms one.
    expect(lagMax).toBeLessThanOrEqual(0.1);
    expect(longestOwnGap - 20).toBeLessThanOrEqual(50);
    // The scrapers' last render may answer for SCRAPE_REUSE_MS: read one made after every line was acknowledged.
    await new Promise((r) => setTimeout(r, 300));
    const m = await exp.metrics();
    expect(sumSamples(m, 'downloader_requests_total', { endpoint: '/during-storm' })).toBe(sent);
  });
});
