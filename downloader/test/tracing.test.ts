import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logLines, Origin, SystemUnderTest, waitFor } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

/** A stand-in for an OpenTelemetry Collector's OTLP/HTTP receiver (no collector binary runs here): it keeps every span. */
async function collector() {
  const spans: OtlpSpan[] = [];
  const services = new Set<string>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.method === 'POST') {
        const data = JSON.parse(body) as {
          resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
        };
        for (const rs of data.resourceSpans) {
          for (const a of rs.resource.attributes) if (a.key === 'service.name') services.add(String(a.value.stringValue));
          for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { spans, services, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const P = '00f067aa0ba902b7';
const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v ? (v.stringValue ?? Number(v.intValue)) : undefined;
};

describe('OTLP trace export (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  const origin = new Origin();
  const seen: IncomingHttpHeaders[] = [];
  let otlp: Awaited<ReturnType<typeof collector>>;
  let sut: SystemUnderTest;

  beforeAll(async () => {
    otlp = await collector();
    await origin.start();
    origin.route('/page', (req, res) => {
      seen.push(req.headers);
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<html><body><article><h1>Traced</h1><p>words</p></article></body></html>');
    });
    sut = await new SystemUnderTest(
      { DOWNLOADER_ALLOW_PRIVATE: '1', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '50' },
      { SCRAPE_REUSE_MS: '0' },
    ).start();
  });
  afterAll(async () => {
    await sut?.stop();
    await origin.stop();
    otlp?.close();
  });

  it("joins the caller's trace: a server span under its parent, the fetch and the render under it; nothing sent to the target", async () => {
    const res = await fetch(`${sut.base}/${origin.base}/page`, { headers: { traceparent: `00-${T}-${P}-01` } });
    expect(res.status).toBe(200);
    const server = await waitFor('the server span', () => otlp.spans.find((s) => s.traceId === T && s.kind === 2));
    expect(server).toMatchObject({ name: 'GET /{url}', parentSpanId: P });
    expect(attr(server, 'http.route')).toBe('/{url}');
    expect(attr(server, 'http.response.status_code')).toBe(200);
    const children = await waitFor('two child spans', () => {
      const c = otlp.spans.filter((s) => s.traceId === T && s.parentSpanId === server.spanId);
      return c.length >= 2 ? c : undefined;
    });
    expect(children.map((s) => s.name).sort()).toEqual(['render', 'upstream fetch']);
    expect(otlp.services).toEqual(new Set(['downloader']));
    expect(seen.at(-1)?.traceparent).toBeUndefined();
  });

  it('starts a trace of its own for a request without one, and that trace id is the exemplar and in the log', async () => {
    const res = await fetch(`${sut.base}/health`, { headers: { 'x-request-id': 'own-trace-1' } });
    expect(res.status).toBe(200);
    const line = await waitFor('the access line', () =>
      logLines(sut.downloader.output()).find((l) => l.msg === 'request' && l.request_id === 'own-trace-1'),
    );
    const traceId = String(line.trace_id);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const span = await waitFor('its server span', () => otlp.spans.find((s) => s.traceId === traceId));
    expect(span).toMatchObject({ name: 'GET /health', kind: 2 });
    expect(span.parentSpanId ?? '').toBe('');
    await waitFor('its exemplar', async () => {
      const om = await (
        await fetch(`${sut.metricsBase}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })
      ).text();
      return om.includes(`trace_id="${traceId}"`) || undefined;
    });
  });

  it("follows a caller's decision not to sample: no span, no exemplar", async () => {
    const unsampled = '0af7651916cd43dd8448eb211c80319c';
    await fetch(`${sut.base}/health`, { headers: { traceparent: `00-${unsampled}-${P}-00` } });
    await fetch(`${sut.base}/health`, { headers: { 'x-request-id': 'after-unsampled' } });
    const after = await waitFor('the next request exported', () =>
      logLines(sut.downloader.output()).find((l) => l.request_id === 'after-unsampled'),
    );
    await waitFor('its span', () => otlp.spans.find((s) => s.traceId === after.trace_id));
    expect(otlp.spans.filter((s) => s.traceId === unsampled)).toEqual([]);
  });
});
