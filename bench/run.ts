// npm run bench: every benchmark, one table. Ratios are measured side by side in this one run.
import { cpus } from 'node:os';
import { fmt, printTable, type Row } from './lib.ts';
import { overheadBench } from './overhead.ts';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const rows: Row[] = [];
const suites: Record<string, () => Promise<Row[]>> = {
  overhead: () => overheadBench(quick ? 2 : 5, quick ? 2 : 5),
};
for (const [name, run] of Object.entries(suites)) {
  if (only && only !== name) continue;
  console.error(`bench: ${name} ...`);
  rows.push(...(await run()));
}
console.log(
  `\n${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log(printTable(rows));
void fmt;
