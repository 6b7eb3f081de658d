import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Origin, SystemUnderTest, sumSamples, waitFor } from '@dl/testkit';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SECRET = 'whsec-test-123';

describe('webhooks on job completion', () => {
  const origin = new Origin();
  const deliveries: { body: string; signature: string | undefined; attempt: number; headers: IncomingHttpHeaders }[] = [];
  const refused: { path: string; headers: IncomingHttpHeaders }[] = [];
  let attempts = 0;
  const sut = new SystemUnderTest({ DOWNLOADER_ALLOW_PRIVATE: '1', WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_BASE_S: '0.05' });

  beforeAll(async () => {
    await origin.start();
    origin.static('/page', 'text/plain', 'hello');
    origin.route('/hook', (req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        attempts++;
        deliveries.push({
          body,
          signature: req.headers['x-signature-256'] as string | undefined,
          attempt: attempts,
          headers: req.headers,
        });
        // 500, then 429: both worth another attempt; then 200.
        res.writeHead(attempts === 1 ? 500 : attempts === 2 ? 429 : 200).end();
      });
    });
    // Receivers that refuse for good (400) or for now (408).
    for (const [path, status] of [
      ['/hook-400', 400],
      ['/hook-408', 408],
    ] as const) {
      origin.route(path, (req, res) => {
        req.resume();
        req.on('end', () => {
          refused.push({ path, headers: req.headers });
          res.writeHead(status).end();
        });
      });
    }
    await sut.start();
  });
  afterAll(async () => {
    await sut.stop();
    await origin.stop();
  });

  it('delivers a signed body, retried after a failing receiver, and counts the delivery', async () => {
    const res = await fetch(`${sut.base}/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'hook-job-1' },
      body: JSON.stringify({ urls: [{ url: `${origin.base}/page` }], webhook_url: `${origin.base}/hook` }),
    });
    expect(res.status).toBe(202);
    const { job_id } = (await res.json()) as { job_id: string };
    await waitFor('three attempts', () => (deliveries.length >= 3 ? true : undefined));
    // Standard Webhooks: one message id on every attempt, each attempt signed with its own timestamp,
    // verified by the reference library (a secret not written as whsec_ is used as its raw bytes).
    const receiver = new Webhook(SECRET, { format: 'raw' });
    for (const d of deliveries) {
      expect(d.headers['webhook-id']).toBe(deliveries[0]?.headers['webhook-id']);
      expect(Math.abs(Number(d.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      expect(receiver.verify(d.body, d.headers as Record<string, string>)).toEqual(JSON.parse(d.body));
      expect(d.headers['x-request-id']).toBe('hook-job-1');
    }
    expect(() =>
      new Webhook('another secret', { format: 'raw' }).verify(
        deliveries[0]?.body ?? '',
        deliveries[0]?.headers as Record<string, string>,
      ),
    ).toThrow();
    const last = deliveries[2] as (typeof deliveries)[number];
    const expected = `sha256=${createHmac('sha256', SECRET).update(last.body).digest('hex')}`;
    expect(last.signature).toBe(expected);
    const payload = JSON.parse(last.body);
    expect(payload).toMatchObject({
      event: 'job.finished',
      job: { job_id, status: 'completed', request_id: 'hook-job-1' },
      results_url: `/jobs/${job_id}/results`,
    });
    // Every attempt carried the same signed body.
    expect(new Set(deliveries.map((d) => d.body)).size).toBe(1);
    const m = await waitFor('webhook event counted', async () => {
      const s = await sut.metrics();
      return sumSamples(s, 'downloader_webhook_deliveries_total', { outcome: 'ok' }) === 1 ? s : undefined;
    });
    expect(sumSamples(m, 'downloader_webhook_deliveries_total', { outcome: 'failed' })).toBe(0);
    expect(sumSamples(m, 'downloader_webhook_delivery_duration_seconds_count')).toBe(1);
  });

  it('retries a 408, never a 400: a receiver that refuses for good is asked once', async () => {
    for (const hook of ['/hook-400', '/hook-408']) {
      const res = await fetch(`${sut.base}/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ urls: [{ url: `${origin.base}/page` }], webhook_url: `${origin.base}${hook}` }),
      });
      expect(res.status).toBe(202);
    }
    const m = await waitFor('both deliveries given up', async () => {
      const s = await sut.metrics();
      return sumSamples(s, 'downloader_webhook_deliveries_total', { outcome: 'failed' }) === 2 ? s : undefined;
    });
    expect(refused.filter((r) => r.path === '/hook-400')).toHaveLength(1);
    expect(refused.filter((r) => r.path === '/hook-408')).toHaveLength(5);
    expect(sumSamples(m, 'downloader_webhook_deliveries_total', { outcome: 'ok' })).toBe(1);
  });
});

describe('webhooks without WEBHOOK_SECRET', () => {
  const sut = new SystemUnderTest({ DOWNLOADER_ALLOW_PRIVATE: '1' });
  beforeAll(() => sut.start());
  afterAll(() => sut.stop());

  it('refuses webhook_url with 400: nothing unsigned is ever sent', async () => {
    const res = await fetch(`${sut.base}/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ urls: [{ url: 'http://127.0.0.1:1/x' }], webhook_url: 'http://127.0.0.1:1/hook' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ success: false, error_type: 'webhooks_disabled' });
  });
});
