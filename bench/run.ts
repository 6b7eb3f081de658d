// npm run bench: every benchmark, one table. Ratios are measured side by side in this one run.
import { cpus } from 'node:os';
import { buildAll } from '../scripts/build.mjs';
import { delayBench } from './delayBench.ts';
import { downloaderBench } from './downloaderBench.ts';
import { ingestBench, memoryBench, steadyBench } from './exporterBench.ts';
import { fleetBench } from './fleetBench.ts';
import { loadGenerator, printTable, type Row } from './lib.ts';
import { overheadBench } from './overhead.ts';
import { redisBench } from './redisBench.ts';
import { renderBench } from './renderBench.ts';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const rows: Row[] = [];
await buildAll();
const suites: Record<string, () => Promise<Row[]>> = {
  overhead: () => overheadBench(quick ? 1 : 5, quick ? 2 : 6),
  ingest: () => ingestBench(quick ? 1 : 3, quick ? 2 : 5),
  steady: () => steadyBench(quick ? 1 : 3, quick ? 10 : 20),
  render: () => renderBench(quick ? 5 : 30),
  fleet: async () => fleetBench(quick ? 20_000 : 100_000),
  delay: () => delayBench(quick ? 20 : 100),
  downloader: () => downloaderBench(quick ? 8 : 40),
  redis: () => redisBench(quick ? 1 : 3, quick ? 500_000 : 2_000_000),
  memory: () => memoryBench(quick ? 1_000_000 : 10_000_000),
};
for (const [name, run] of Object.entries(suites)) {
  if (only && only !== name) continue;
  console.error(`bench: ${name} ...`);
  rows.push(...(await run()));
}
console.log(
  `\n${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load generator ${loadGenerator}, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log(printTable(rows));
