// The separate writer process of the ingest benchmarks. Floods the exporter's socket with lines,
// respecting backpressure, and reads the exporter's acknowledgements (= lines decoded, validated
// and aggregated). Prints one JSON line with the result.
//   ingestWriter <socket> rate <seconds> <request|binary|upstream>   events/s over `seconds` after 1 s
//                                                 warm-up (`binary`: request events as binary frames)
//   ingestWriter <socket> count <n> <request|flood>          sends exactly n lines, waits for their ack
//   ingestWriter <socket> steady <seconds> <request|binary> <events/s>   request events at a steady
//                                                 rate, a batch every 50 ms as the emitter writes them; prints
//                                                 {"phase":"measure"} after 2 s of warm-up, then the events
//                                                 sent over the `seconds` after it once all are acknowledged
import net from 'node:net';
import { BINARY_ENCODING, encodeEvent, writeEndpointFrame, writeRequestFrame } from '@dl/shared';

const [path, mode = 'rate', amountArg = '5', kind = 'request', rateArg = '25000'] = process.argv.slice(2);
const amount = Number(amountArg);
const endpoints = ['/health', '/{url}', '/batch', '/jobs/{job_id}/status', '/jobs/{job_id}/results'];

/**
 * The timestamp of the i-th event of a repeating chunk: a millisecond every 1,000 events, as events
 * written at 1 M a second would carry (the exporter observes a run of equal delays at once).
 */
const chunkEpoch = Date.now();
const chunkTs = (i: number) => chunkEpoch + Math.floor(i / 1000);

function line(i: number, ts = chunkTs(i)): string {
  const d = Math.round(Math.exp(-3 + Math.sin(i) * 2) * 1e6) / 1e6;
  if (kind === 'upstream')
    return `{"v":1,"kind":"upstream","ts":${ts},"outcome":"ok","status":200,"duration_s":${d},"retries":0}\n`;
  const endpoint = kind === 'flood' ? `/flood/${i}` : endpoints[i % 5];
  return `{"v":1,"kind":"request","ts":${ts},"endpoint":"${endpoint}","method":"GET","status":${i % 50 === 0 ? 500 : 200},"duration_s":${d}}\n`;
}

/** A connection's opening in binary: the hello announcing it, then the endpoint dictionary. */
function binaryOpening(): Buffer {
  const hello = encodeEvent({
    kind: 'hello',
    ts: Date.now(),
    instance: 'bench',
    pid: process.pid,
    version: 'bench',
    started_at: Date.now(),
    encoding: BINARY_ENCODING,
  });
  const b = Buffer.alloc(4096);
  let p = b.write(hello, 0, 'latin1');
  endpoints.forEach((e, id) => {
    p = writeEndpointFrame(b, p, id, e);
  });
  return b.subarray(0, p);
}

/** 256 KiB of request frames, the same events as the NDJSON chunk's. */
function binaryChunk(): Buffer {
  const b = Buffer.alloc(256 * 1024 + 64);
  let p = 0;
  for (let i = 0; p < 256 * 1024; i++) {
    const d = Math.round(Math.exp(-3 + Math.sin(i) * 2) * 1e6) / 1e6;
    p = writeRequestFrame(b, p, i % 5, 'GET', i % 50 === 0 ? 500 : 200, d, chunkTs(i));
  }
  return b.subarray(0, p);
}

function chunkFrom(start: number, maxLines: number): { payload: Buffer; lines: number } {
  let text = '';
  let n = 0;
  while (text.length < 256 * 1024 && n < maxLines) text += line(start + n++);
  return { payload: Buffer.from(text, 'latin1'), lines: n };
}

const socket = net.createConnection(path as string);
let acked = 0;
let tail = '';
const ackWaiters: (() => void)[] = [];
socket.setEncoding('latin1');
socket.on('data', (d: string) => {
  const parts = (tail + d).split('\n');
  tail = parts.pop() ?? '';
  if (parts.length) acked = Number(parts.at(-1));
  for (const w of ackWaiters.splice(0)) w();
});
const done = (result: object) => {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  socket.destroy();
  process.exit(0);
};

socket.on('connect', async () => {
  if (mode === 'rate') {
    const payload = kind === 'binary' ? binaryChunk() : chunkFrom(0, Number.POSITIVE_INFINITY).payload;
    if (kind === 'binary') socket.write(binaryOpening());
    const pump = () => {
      while (socket.write(payload)) {}
    };
    socket.on('drain', pump);
    pump();
    await new Promise((r) => setTimeout(r, 1000));
    const a0 = acked;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, amount * 1000));
    done({ eventsPerSecond: (acked - a0) / ((performance.now() - t0) / 1000) });
    return;
  }
  if (mode === 'steady') {
    const rate = Number(rateArg);
    if (kind === 'binary') socket.write(binaryOpening());
    const frames = Buffer.alloc(1 << 20);
    let sent = 0;
    let measuredFrom = -1;
    const t0 = performance.now();
    const warmUntil = t0 + 2_000;
    const endAt = warmUntil + amount * 1000;
    // A batch every 50 ms (the emitter's default flush): the events due by now, stamped evenly over
    // the time since the previous batch, as requests finishing at a steady rate would be.
    let previousTs = Date.now();
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const now = performance.now();
        if (measuredFrom < 0 && now >= warmUntil) {
          measuredFrom = sent;
          process.stdout.write('{"phase":"measure"}\n');
        }
        if (now >= endAt) {
          clearInterval(tick);
          resolve();
          return;
        }
        const due = Math.floor(((now - t0) / 1000) * rate) - sent;
        const ts = Date.now();
        const tsOf = (i: number) => previousTs + Math.floor(((ts - previousTs) * (i + 1)) / due);
        if (kind === 'binary') {
          let p = 0;
          for (let i = 0; i < due; i++) {
            const d = Math.round(Math.exp(-3 + Math.sin(sent + i) * 2) * 1e6) / 1e6;
            p = writeRequestFrame(frames, p, 0, 'GET', 200, d, tsOf(i));
          }
          socket.write(Buffer.from(frames.subarray(0, p)));
        } else {
          let text = '';
          for (let i = 0; i < due; i++) text += line(sent + i, tsOf(i)).replace(/"endpoint":"[^"]*"/, '"endpoint":"/health"');
          socket.write(text);
        }
        previousTs = ts;
        sent += due;
      }, 50);
    });
    while (acked < sent) await new Promise<void>((r) => ackWaiters.push(r));
    done({ events: sent - measuredFrom });
    return;
  }
  // A repeating chunk for plain request lines; fresh lines for the flood (each endpoint once).
  const fixed = kind === 'flood' ? undefined : chunkFrom(0, Number.POSITIVE_INFINITY);
  let sent = 0;
  const t0 = performance.now();
  while (sent < amount) {
    const c = fixed && amount - sent >= fixed.lines ? fixed : chunkFrom(sent, amount - sent);
    sent += c.lines;
    if (!socket.write(c.payload)) await new Promise((r) => socket.once('drain', r));
  }
  while (acked < amount) await new Promise<void>((r) => ackWaiters.push(r));
  done({ lines: amount, seconds: (performance.now() - t0) / 1000 });
});
