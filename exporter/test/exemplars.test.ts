import type { IncomingHttpHeaders } from 'node:http';
import { logLines, Origin, SystemUnderTest, sumSamples, waitFor } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SAMPLED = '4bf92f3577b34da6a3ce929d0e0e4736';
const UNSAMPLED = '0af7651916cd43dd8448eb211c80319c';
const traceparent = (traceId: string, flags: string) => `00-${traceId}-00f067aa0ba902b7-${flags}`;
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0';

describe('trace context: exemplars from sampled traceparents, never sent on to targets', () => {
  const origin = new Origin();
  const seen: IncomingHttpHeaders[] = [];
  const sut = new SystemUnderTest({ DOWNLOADER_ALLOW_PRIVATE: '1' }, { SCRAPE_REUSE_MS: '0' });

  beforeAll(async () => {
    await origin.start();
    origin.route('/page', (req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('traced');
    });
    await sut.start();
  });
  afterAll(async () => {
    await sut.stop();
    await origin.stop();
  });

  it('a sampled traceparent becomes the exemplar of its latency bucket in OpenMetrics, and nowhere in the text format', async () => {
    const res = await fetch(`${sut.base}/health`, { headers: { traceparent: traceparent(SAMPLED, '01') } });
    expect(res.status).toBe(200);
    for (const [header] of [
      [traceparent(UNSAMPLED, '00')], // not sampled
      [`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`], // all-zero trace id
      [`01-${UNSAMPLED}-00f067aa0ba902b7-01`], // unknown version
      [`00-${UNSAMPLED.toUpperCase()}-00f067aa0ba902b7-01`], // upper case
    ])
      await fetch(`${sut.base}/health`, { headers: { traceparent: header as string } });
    await waitFor('5 requests counted', async () =>
      sumSamples(await sut.metrics(), 'downloader_requests_total', { endpoint: '/health' }) >= 5 ? true : undefined,
    );
    const om = await (await fetch(`${sut.metricsBase}/metrics`, { headers: { accept: OPENMETRICS } })).text();
    const exemplars = om.split('\n').filter((l) => l.includes(' # {'));
    expect(exemplars).toHaveLength(1);
    const [line] = exemplars as [string];
    expect(line).toMatch(
      new RegExp(
        `^downloader_response_time_seconds_bucket\\{endpoint="/health",method="GET",le="[^"]+"\\} \\d+ # \\{trace_id="${SAMPLED}"\\} [0-9.e-]+ \\d+(\\.\\d+)?$`,
      ),
    );
    // The exemplar's value falls in its bucket (le is an upper bound), its time is now.
    const [, le, value, ts] = /le="([^"]+)"\} \d+ # \{[^}]+\} (\S+) (\S+)$/.exec(line) as unknown as [
      string,
      string,
      string,
      string,
    ];
    expect(Number(value)).toBeLessThanOrEqual(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le));
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(30);
    const text = await (await fetch(`${sut.metricsBase}/metrics`)).text();
    expect(text).not.toContain('# {');
    expect(text).not.toContain(SAMPLED);
    // The access line carries the trace id of the sampled request only.
    const traced = logLines(sut.downloader.output()).filter((l) => l.msg === 'request' && l.trace_id);
    expect(traced.map((l) => l.trace_id)).toEqual([SAMPLED]);
  });

  it('a target never receives traceparent or tracestate', async () => {
    const res = await fetch(`${sut.base}/${origin.base}/page`, {
      headers: { traceparent: traceparent(SAMPLED, '01'), tracestate: 'vendor=opaque', baggage: 'user=1' },
    });
    expect(await res.text()).toBe('traced');
    expect(seen).toHaveLength(1);
    for (const h of ['traceparent', 'tracestate', 'baggage', 'x-request-id']) expect(seen[0]?.[h]).toBeUndefined();
  });
});
