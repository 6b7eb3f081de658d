// npm run gen:docs — rewrites the generated blocks of docs/*.md from the declarations they mirror:
//   configuration tables   from the env specs (shared/src/config.ts, downloader/ and exporter/ config.ts)
//   the metric table        from the exporter's family set, as composed in exporter/src/exporter.ts
//   the error table         from shared/src/vocabulary.ts (ERROR_TYPES)
//   the event table         from the zod schemas in shared/src/events.ts
// A block sits between `<!-- generated:NAME -->` and `<!-- /generated -->`; prose around it is kept.
// scripts/docs.test.ts fails when a committed page differs from what this writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type EnvSpec, ERROR_TYPES, EVENT_KINDS, eventSchemas, transportEnv } from '@dl/shared';
import { downloaderEnv } from '../downloader/src/config.ts';
import { ManualClock } from '../exporter/src/clock.ts';
import { exporterEnv, loadExporterConfig } from '../exporter/src/config.ts';
import { createExporter } from '../exporter/src/exporter.ts';

export const DOC_FILES = ['docs/configuration.md', 'docs/metrics.md', 'docs/api.md', 'docs/event-contract.md'] as const;

const root = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const code = (s: string) => `\`${s}\``;
const cell = (s: string) => s.replaceAll('|', '\\|');

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

function showDefault(f: EnvSpec[string]): string {
  // A literal (`0600`) is code; a description of a machine-dependent value (the host name) is prose.
  if (f.shownDefault !== undefined) return f.shownDefault.includes(' ') ? f.shownDefault : code(f.shownDefault);
  if (f.fallback === undefined) return 'unset';
  return code(String(f.fallback));
}

function configTable(spec: EnvSpec, skip: EnvSpec = {}): string {
  const rows = Object.entries(spec)
    .filter(([name]) => !(name in skip))
    .map(([name, f]) => [code(name), showDefault(f), f.doc, f.expected]);
  return table(['variable', 'default', 'meaning', 'accepts'], rows);
}

async function metricTable(): Promise<string> {
  // Redis is configured so its families are listed; nothing is started, so nothing connects for long.
  const config = loadExporterConfig({ REDIS_URL: 'redis://127.0.0.1:1', EVENTS_TRANSPORT: 'off' });
  const exporter = createExporter({ config, clock: new ManualClock(), log: () => {} });
  const rows = exporter.metrics().map((m) => [code(m.name), m.type, m.labels.map(code).join(', '), m.help]);
  await exporter.stop();
  return table(['metric', 'type', 'labels', 'meaning'], rows);
}

function errorTable(): string {
  const rows = Object.entries(ERROR_TYPES).map(([type, e]) => [String(e.status), code(type), e.cause, e.when]);
  return table(['status', 'error_type', 'cause', 'when'], rows);
}

/** What the table needs of a zod field: whether it is optional, and its values when it is an enum. */
interface FieldSchema {
  isOptional(): boolean;
  options?: readonly unknown[];
  unwrap?: () => FieldSchema;
}

/** A zod field's shape for humans: `name`, `name?`, and its values when it is a closed set. */
function describeField(name: string, schema: FieldSchema): string {
  const optional = schema.isOptional();
  const inner = optional && schema.unwrap ? schema.unwrap() : schema;
  const values = inner.options ? ` (${inner.options.map((v) => code(String(v))).join(', ')})` : '';
  return `${code(optional ? `${name}?` : name)}${values}`;
}

function eventTable(): string {
  const rows = EVENT_KINDS.map((kind) => {
    const shape = eventSchemas[kind].shape as unknown as Record<string, FieldSchema>;
    const fields = Object.entries(shape)
      .filter(([name]) => !['v', 'kind', 'ts'].includes(name))
      .map(([name, schema]) => describeField(name, schema));
    return [code(kind), fields.join(', ')];
  });
  return table(['kind', 'fields besides `v`, `kind`, `ts`'], rows);
}

export async function generatedBlocks(): Promise<Record<string, string>> {
  return {
    'config-both': configTable(transportEnv),
    'config-downloader': configTable(downloaderEnv, transportEnv),
    'config-exporter': configTable(exporterEnv, transportEnv),
    metrics: await metricTable(),
    'error-types': errorTable(),
    'event-kinds': eventTable(),
  };
}

/** The page with every generated block rewritten; unknown block names are an error. */
export function fillBlocks(page: string, blocks: Record<string, string>): string {
  return page.replace(
    /(<!-- generated:([a-z-]+) -->\n)[\s\S]*?(<!-- \/generated -->)/g,
    (_m, open: string, name: string, close: string) => {
      const block = blocks[name];
      if (block === undefined) throw new Error(`unknown generated block ${name}`);
      return `${open}${block}\n${close}`;
    },
  );
}

/** Every docs page as this script would write it. */
export async function generatedDocs(): Promise<Record<string, string>> {
  const blocks = await generatedBlocks();
  return Object.fromEntries(DOC_FILES.map((f) => [f, fillBlocks(readFileSync(root(f), 'utf8'), blocks)]));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [file, text] of Object.entries(await generatedDocs())) writeFileSync(root(file), text);
  console.log(`wrote the generated blocks of ${DOC_FILES.join(', ')}`);
  process.exit(0); // the Redis poller's client of the metric table would otherwise retry until killed
}
