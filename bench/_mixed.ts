import { readFileSync } from 'node:fs';
import net from 'node:net';
import { ExporterUnderTest } from '@dl/testkit';

const request = (endpoint: string) =>
  `${JSON.stringify({ v: 1, kind: 'request', ts: Date.now(), endpoint, method: 'GET', status: 200, duration_s: 0.01 })}\n`;
const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const only = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
const GARBAGE: ((i: number) => Buffer)[] = [
  () => Buffer.from(Array.from({ length: 64 * 1024 }, () => Math.floor(Math.random() * 256))),
  () => Buffer.alloc(256 * 1024, 0x61),
  (i) => Buffer.from(request(`/bad/${i}`).replace('"status":200', '"status":"200"').repeat(50)),
  () => Buffer.from('\n'.repeat(64 * 1024)),
  () => Buffer.from(`{"v":1,"kind":"request","ts":1,"endpoint":"${'x'.repeat(7_000)}"}\n`.repeat(8)),
];
const exp = await new ExporterUnderTest().start();
console.log(`idle rss ${rss(exp.process.pid).toFixed(0)}`);
const until = Date.now() + 12000;
let peak = 0;
const t = setInterval(() => (peak = Math.max(peak, rss(exp.process.pid))), 100);
const sample = setInterval(async () => {
  const txt = await (await fetch(`${exp.base}/metrics`)).text();
  const g = (n: string) => (Number(new RegExp(`^${n} (\\S+)`, 'm').exec(txt)?.[1]) / 2 ** 20).toFixed(0);
  console.log(
    `rss ${rss(exp.process.pid).toFixed(0)} heapTotal ${g('exporter_nodejs_heap_size_total_bytes')} used ${g('exporter_nodejs_heap_size_used_bytes')} ext ${g('exporter_nodejs_external_memory_bytes')} throttled ${g('exporter_socket_throttled_total')}`,
  );
}, 700);
await Promise.all(
  Array.from({ length: 20 }, async (_, i) => {
    const s = net.createConnection(exp.socketPath);
    await new Promise((r) => s.once('connect', r));
    if (i % 2 === 0) s.pause();
    s.on('error', () => {});
    let n = 0;
    const kind = only ?? i % 5;
    while (Date.now() < until && !s.destroyed)
      if (!s.write(GARBAGE[kind]!(n++ * 100 + i))) await new Promise((r) => s.once('drain', r));
    s.destroy();
  }),
);
console.log('destroyed');
await new Promise((r) => setTimeout(r, 1000));

clearInterval(sample);
clearInterval(t);
console.log(`peak ${peak.toFixed(0)}`);
await exp.stop();
