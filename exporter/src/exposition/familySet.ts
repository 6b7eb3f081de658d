import type { MetricFamilyMessage } from './clientModel.ts';
import type { ExpositionFormat, Family } from './families.ts';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Every family the exporter renders, in registration order. Like prom-client's registry it refuses
 * a second family of the same name and names that Prometheus would reject, at registration (start-up),
 * so a mistake fails the first test rather than the first scrape.
 */
export class FamilySet {
  private readonly families: Family[] = [];
  private readonly names = new Set<string>();

  /** Adds families; returns the set so stages can register in one expression. */
  add(...families: Family[]): this {
    for (const f of families) {
      if (!METRIC_NAME.test(f.name)) throw new Error(`invalid metric name ${JSON.stringify(f.name)}`);
      const bad = f.labelNames.find((l) => !LABEL_NAME.test(l) || l.startsWith('__') || l === 'le' || l === 'quantile');
      if (bad !== undefined) throw new Error(`metric ${f.name}: invalid or reserved label name ${JSON.stringify(bad)}`);
      if (new Set(f.labelNames).size !== f.labelNames.length) throw new Error(`metric ${f.name}: a label name is repeated`);
      if (this.names.has(f.name)) throw new Error(`metric ${f.name} is registered twice`);
      this.names.add(f.name);
      this.families.push(f);
    }
    return this;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Name, type, labels and help of every family, in order: what docs/metrics.md is generated from. */
  describe(): { name: string; type: Family['type']; labels: readonly string[]; help: string }[] {
    return this.families.map((f) => ({ name: f.name, type: f.type, labels: f.labelNames, help: f.help }));
  }

  toProto(): MetricFamilyMessage[] {
    return this.families.map((f) => f.toProto());
  }

  render(format: Exclude<ExpositionFormat, 'protobuf'>): string {
    let out = '';
    for (const f of this.families) out += f.render(format);
    return out;
  }
}
