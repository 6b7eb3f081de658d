/** Parses Prometheus text exposition into `name{labels}` -> value, labels in the order written. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** Sums every sample of `name` whose labels include all of `match` (e.g. `{ endpoint: '/health' }`). */
export function sumSamples(samples: Map<string, number>, name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of samples) {
    const brace = key.indexOf('{');
    const metric = brace < 0 ? key : key.slice(0, brace);
    if (metric !== name) continue;
    const labels = brace < 0 ? '' : key.slice(brace);
    if (Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}
