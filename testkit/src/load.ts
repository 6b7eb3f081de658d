/** One planned request and the label set the exporter must count it under. */
export interface PlannedRequest {
  method: string;
  path: string;
  endpoint: string;
  status: number;
  headers?: Record<string, string>;
}

/** Runs `requests` against `base` with bounded concurrency; returns how many got the expected status. */
export async function runPlan(base: string, requests: readonly PlannedRequest[], concurrency = 16): Promise<number> {
  let next = 0;
  let ok = 0;
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++] as PlannedRequest;
      const res = await fetch(base + r.path, { method: r.method, ...(r.headers ? { headers: r.headers } : {}) });
      await res.arrayBuffer();
      if (res.status === r.status) ok++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ok;
}

/** Expected counts keyed like the exposition: `endpoint|method|status`. */
export function expectedCounts(requests: readonly PlannedRequest[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of requests) {
    const k = `${r.endpoint}|${r.method}|${r.status}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/** A fixed mix over several routes and statuses of the thin downloader. */
export const MIX: readonly PlannedRequest[] = [
  { method: 'GET', path: '/health', endpoint: '/health', status: 200 },
  { method: 'GET', path: '/health', endpoint: '/health', status: 200 },
  { method: 'HEAD', path: '/health', endpoint: '/health', status: 200 },
  { method: 'GET', path: '/jobs/abc/status', endpoint: '/jobs/{job_id}/status', status: 404 },
  { method: 'GET', path: '/jobs/x1/results', endpoint: '/jobs/{job_id}/results', status: 404 },
  { method: 'DELETE', path: '/jobs/zz', endpoint: '/jobs/{job_id}', status: 404 },
  { method: 'GET', path: '/no/such/route?x=1', endpoint: 'other', status: 404 },
  { method: 'POST', path: '/health', endpoint: 'other', status: 404 },
];

export function plan(n: number, mix: readonly PlannedRequest[] = MIX): PlannedRequest[] {
  return Array.from({ length: n }, (_, i) => mix[i % mix.length] as PlannedRequest);
}

/** The same mix without the job routes, which need Redis when REDIS_URL is set (for Redis-outage tests). */
export const STATELESS_MIX: readonly PlannedRequest[] = MIX.filter((r) => !r.path.startsWith('/jobs/'));
