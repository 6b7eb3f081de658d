// A separate writer process for the ingest benchmark: floods the exporter's socket with valid
// request events for `seconds`, respecting backpressure, and reports how many lines the exporter
// acknowledged (= decoded, validated and aggregated) per second.
import net from 'node:net';

const [path, secondsArg, kind = 'request'] = process.argv.slice(2);
const seconds = Number(secondsArg ?? 5);
const endpoints = ['/health', '/{url}', '/batch', '/jobs/{job_id}/status', '/jobs/{job_id}/results'];
let chunk = '';
let lines = 0;
for (let i = 0; chunk.length < 256 * 1024; i++, lines++) {
  const d = Math.round(Math.exp(-3 + Math.sin(i) * 2) * 1e6) / 1e6;
  chunk +=
    kind === 'request'
      ? `{"v":1,"kind":"request","ts":${Date.now()},"endpoint":"${endpoints[i % 5]}","method":"GET","status":${i % 50 === 0 ? 500 : 200},"duration_s":${d}}\n`
      : `{"v":1,"kind":"upstream","ts":${Date.now()},"outcome":"ok","status":200,"duration_s":${d},"retries":0}\n`;
}
const payload = Buffer.from(chunk, 'latin1');
const socket = net.createConnection(path!);
let acked = 0;
let tail = '';
socket.setEncoding('latin1');
socket.on('data', (d: string) => {
  const parts = (tail + d).split('\n');
  tail = parts.pop() ?? '';
  if (parts.length) acked = Number(parts.at(-1));
});
socket.on('connect', () => {
  let warmAcked = 0;
  let start = 0;
  const pump = () => {
    while (socket.write(payload)) {}
  };
  socket.on('drain', pump);
  pump();
  setTimeout(() => {
    warmAcked = acked;
    start = performance.now();
  }, 1000);
  setTimeout(
    () => {
      const rate = (acked - warmAcked) / ((performance.now() - start) / 1000);
      process.stdout.write(`${JSON.stringify({ eventsPerSecond: rate, linesPerChunk: lines })}\n`);
      socket.destroy();
      process.exit(0);
    },
    1000 + seconds * 1000,
  );
});
