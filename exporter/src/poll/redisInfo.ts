/** The Redis figures the exporter exports, parsed from `INFO` text. Missing fields are undefined. */
export interface RedisInfo {
  connected_clients?: number;
  used_memory_bytes?: number;
  commands_processed_total?: number;
  keyspace_hits_total?: number;
  keyspace_misses_total?: number;
  version?: string;
  /** Every `key:value` line, by section (lower-case), for anything else a caller needs. */
  sections: Record<string, Record<string, string>>;
}

/** Parses `INFO` output. Pure; tolerates CRLF or LF, unknown sections, and malformed lines (skipped). */
export function parseRedisInfo(text: string): RedisInfo {
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> = {};
  sections.default = current;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const name = line.slice(1).trim().toLowerCase();
      current = sections[name] ?? {};
      sections[name] = current;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    current[line.slice(0, colon)] = line.slice(colon + 1);
  }
  const field = (key: string): number | undefined => {
    for (const s of Object.values(sections)) {
      const v = s[key];
      if (v === undefined) continue;
      const n = Number(v);
      return Number.isFinite(n) && v !== '' ? n : undefined;
    }
    return undefined;
  };
  return {
    connected_clients: field('connected_clients'),
    used_memory_bytes: field('used_memory'),
    commands_processed_total: field('total_commands_processed'),
    keyspace_hits_total: field('keyspace_hits'),
    keyspace_misses_total: field('keyspace_misses'),
    version: sections.server?.redis_version,
    sections,
  };
}
