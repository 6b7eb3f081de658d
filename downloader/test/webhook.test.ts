import { createHmac } from 'node:crypto';
import { Origin, SystemUnderTest, sumSamples, waitFor } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SECRET = 'whsec-test-123';

describe('webhooks on job completion', () => {
  const origin = new Origin();
  const deliveries: { body: string; signature: string | undefined; attempt: number }[] = [];
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
        deliveries.push({ body, signature: req.headers['x-signature-256'] as string | undefined, attempt: attempts });
        res.writeHead(attempts <= 2 ? 500 : 200).end();
      });
    });
    await sut.start();
  });
  afterAll(async () => {
    await sut.stop();
    await origin.stop();
  });

  it('delivers a signed body, retried after a failing receiver, and counts the delivery', async () => {
    const res = await fetch(`${sut.base}/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ urls: [{ url: `${origin.base}/page` }], webhook_url: `${origin.base}/hook` }),
    });
    expect(res.status).toBe(202);
    const { job_id } = (await res.json()) as { job_id: string };
    await waitFor('three attempts', () => (deliveries.length >= 3 ? true : undefined));
    const last = deliveries[2] as (typeof deliveries)[number];
    const expected = `sha256=${createHmac('sha256', SECRET).update(last.body).digest('hex')}`;
    expect(last.signature).toBe(expected);
    const payload = JSON.parse(last.body);
    expect(payload).toMatchObject({
      event: 'job.finished',
      job: { job_id, status: 'completed' },
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
