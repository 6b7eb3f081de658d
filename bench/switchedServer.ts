// The downloader as the overhead benchmark runs it: composed as downloader/src/main.ts composes it
// (the same app, cache layer, upstream client, request-context wrapper and timed responses, admin stats for
// the exporter's polls), with one switch. `BENCH_MODE=telemetry`: on is the telemetry the
// environment configures (EVENTS_*), off is main.ts's composition with EVENTS_TRANSPORT=off.
// `BENCH_MODE=prom`: on is an in-process prom-client middleware instead, as most services do.
// `BENCH_MODE=none`: on and off are the same (the A/A check of the method). Two more take the
// telemetry apart: `BENCH_MODE=recorder`, on is the timed response handing each request to a
// recorder that keeps nothing (its two clock reads and a call); `BENCH_MODE=emitter`, on is the
// emitter encoding every event into its queue and writing each batch to a sink that takes it and
// acknowledges it on the next tick (all the downloader does but the socket's write and read).
//
// The process switches itself: `POST /bench/alternate?ms=100&sidecars=PID,PID` on the admin port
// flips on and off every `ms` milliseconds, stopping the sidecars (SIGSTOP) for each off phase and
// continuing them (SIGCONT) for each on phase, so all their work falls in on phases and off is no
// sidecar at all; `POST /bench/settle` ends it (off, sidecars continued) and answers what each state
// cost: CPU of every thread of this process (`process.cpuUsage()`, getrusage over all threads, read
// at each switch), requests and wall time. One process against itself, switched every 100 ms, sees
// the same host conditions in both states: an A/A process reads within 1 % run by run, where runs of
// whole seconds in ABBA order strayed by 10 % on this VM.
import type { ServerResponse } from 'node:http';
import { type EventSink, exitWith, loadConfigOrExit } from '@dl/shared';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import client from 'prom-client';
import { createAdminApp } from '../downloader/src/admin.ts';
import { createApp } from '../downloader/src/app.ts';
import { cacheLayer, MemoryCache } from '../downloader/src/cache/cache.ts';
import { loadDownloaderConfig } from '../downloader/src/config.ts';
import { createProcessSampler } from '../downloader/src/processStats.ts';
import { Semaphore } from '../downloader/src/semaphore.ts';
import { withRequestContext } from '../downloader/src/telemetry/accessLog.ts';
import { TimedResponse } from '../downloader/src/telemetry/requestTiming.ts';
import { createTelemetry, type Telemetry } from '../downloader/src/telemetry/telemetry.ts';
import { UpstreamClient } from '../downloader/src/upstream/client.ts';

const MODES = ['telemetry', 'prom', 'none', 'recorder', 'emitter'];
const mode = process.env.BENCH_MODE ?? 'telemetry';
if (!MODES.includes(mode)) exitWith('downloader', `BENCH_MODE must be one of ${MODES.join(', ')}, not ${JSON.stringify(mode)}`);
const config = loadConfigOrExit('downloader', () => loadDownloaderConfig(process.env));
const startedAt = Date.now();
const telemetry = createTelemetry({
  config: mode === 'telemetry' ? config : { ...config, EVENTS_TRANSPORT: 'off' },
  version: 'bench',
  startedAt,
});
let on = false;
/** Calls the `recorder` mode's recorder took (answered by /bench/settle): each call does this much. */
let kept = 0;

/** What records while on, by mode: the configured telemetry, or one of the two parts of it. */
function measuredTelemetry(): Pick<Telemetry, 'recordRequest' | 'recordCache' | 'emit'> | undefined {
  if (mode === 'telemetry') return telemetry;
  if (mode === 'recorder') {
    const keep = () => {
      kept++;
    };
    return { recordRequest: keep, recordCache: keep, emit: keep };
  }
  if (mode !== 'emitter') return undefined;
  const emitting = createTelemetry({
    config: { ...config, EVENTS_TRANSPORT: 'socket', EVENTS_ENCODING: 'binary' },
    version: 'bench',
    startedAt,
    sink: (events): EventSink => ({
      ready: true,
      start: () => events.onConnect(),
      send: (_bytes, count) => {
        process.nextTick(() => events.onAck(count));
        return true;
      },
      close: async () => {},
    }),
  });
  emitting.start();
  return emitting;
}
const measuring = measuredTelemetry();

const pools = { pdf: new Semaphore(1, 1), batch: new Semaphore(1, 1) };
const upstream = new UpstreamClient({
  allowPrivate: config.DOWNLOADER_ALLOW_PRIVATE,
  emit: (event) => on && measuring?.emit(event),
});
const contentCache = new MemoryCache(config.CACHE_MAX_BYTES, config.CACHE_TTL_S * 1000);
const app = createApp({
  version: 'bench',
  startedAt,
  upstream,
  cache: cacheLayer(contentCache, (result, format) => on && measuring?.recordCache(result, format)),
});

function promClientApp(): Hono {
  const registry = new client.Registry();
  const requests = new client.Counter({
    name: 'downloader_requests_total',
    help: 'requests',
    labelNames: ['endpoint', 'method', 'status'],
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'downloader_response_time_seconds',
    help: 'latency',
    labelNames: ['endpoint', 'method'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60],
    registers: [registry],
  });
  const wrapped = new Hono();
  wrapped.use('*', async (c, next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      const endpoint = c.req.routePath;
      requests.inc({ endpoint, method: c.req.method, status: String(c.res.status) });
      duration.observe({ endpoint, method: c.req.method }, (performance.now() - start) / 1000);
    }
  });
  wrapped.route('/', app);
  return wrapped;
}

const measured = mode === 'prom' ? promClientApp().fetch : app.fetch;
let counted = 0;
const fetch = withRequestContext((request: Request, env: unknown) => {
  counted++;
  return on ? measured(request, env) : app.fetch(request, env);
});

/**
 * The response class: main.ts's timed one, whose recorder is there only while on. A response made
 * while off reads no clock and records nothing. One class in both states, as in a real server: two
 * classes (the timed one while on, Node's own while off) made Node's response code polymorphic in
 * this process only, and read 3-4 % more for on than for the same change measured beside a
 * monomorphic off. What off pays that EVENTS_TRANSPORT=off does not: two fields per response and
 * a check of the recorder at creation and at writeHead.
 */
class SwitchedResponse extends TimedResponse {}
Object.defineProperty(SwitchedResponse.prototype, 'recorder', {
  get: () => (on ? measuring?.recordRequest : undefined),
});

/** What one state has cost since the alternation began. */
interface Phase {
  cpu_us: number;
  requests: number;
  ms: number;
}
const emptyPhase = (): Phase => ({ cpu_us: 0, requests: 0, ms: 0 });
let phases = { on: emptyPhase(), off: emptyPhase() };
let sidecars: number[] = [];
let alternation: NodeJS.Timeout | undefined;
let lastCpu = process.cpuUsage();
let lastMs = performance.now();

/** Charges the time since the last switch to the current state, then enters `next`. */
function switchTo(next: boolean): void {
  const cpu = process.cpuUsage();
  const ms = performance.now();
  const phase = on ? phases.on : phases.off;
  phase.cpu_us += cpu.user - lastCpu.user + cpu.system - lastCpu.system;
  phase.requests += counted;
  phase.ms += ms - lastMs;
  counted = 0;
  lastCpu = cpu;
  lastMs = ms;
  on = next;
  for (const pid of sidecars) process.kill(pid, on ? 'SIGCONT' : 'SIGSTOP');
}

const sampler = createProcessSampler();
const admin = new Hono();
admin.post('/bench/alternate', (c) => {
  clearInterval(alternation);
  sidecars = (c.req.query('sidecars') ?? '').split(',').filter(Boolean).map(Number);
  switchTo(false);
  phases = { on: emptyPhase(), off: emptyPhase() };
  alternation = setInterval(() => switchTo(!on), Number(c.req.query('ms') ?? 100));
  return c.json({ alternating: true });
});
admin.post('/bench/settle', (c) => {
  clearInterval(alternation);
  switchTo(false);
  for (const pid of sidecars) process.kill(pid, 'SIGCONT');
  sidecars = [];
  return c.json({ ...phases, recorded: kept });
});
admin.route(
  '/',
  createAdminApp({
    startedAt,
    version: 'bench',
    transport: mode === 'telemetry' ? config.EVENTS_TRANSPORT : 'off',
    ledger: telemetry.ledger,
    process: sampler.sample,
    pools,
    upstream,
    cache: contentCache,
  }),
);

telemetry.start();
serve({
  fetch,
  port: config.PORT,
  hostname: config.HOST,
  serverOptions: { ServerResponse: SwitchedResponse as unknown as typeof ServerResponse },
});
serve({ fetch: admin.fetch, port: config.ADMIN_PORT, hostname: config.ADMIN_HOST });
process.on('SIGTERM', () => {
  void telemetry.stop(2_000).then(() => process.exit(0));
});
