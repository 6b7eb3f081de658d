import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventInput } from '@dl/shared';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamClient } from '../upstream/client.ts';
import { deliverWebhook, retryable, standardSignature } from './webhook.ts';

/** A receiver answering each delivery with the next status of its script. */
let server: Server;
let url = '';
let script: number[] = [];
let seen = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(script[seen++] ?? 200).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(() => server.close());

async function deliver(statuses: number[], random: () => number) {
  script = statuses;
  seen = 0;
  const upstream = new UpstreamClient({ allowPrivate: false, allowAddresses: ['127.0.0.1'] });
  const waits: number[] = [];
  const events: EventInput[] = [];
  const ok = await deliverWebhook(
    url,
    { hello: 1 },
    { upstream, secret: 's', emit: (e) => events.push(e), baseDelayMs: 1_000, random, sleep: async (ms) => void waits.push(ms) },
  );
  await upstream.close();
  return { ok, waits, events, attempts: seen };
}

describe('deliverWebhook', () => {
  it('backs off 1, 2, 4, 8 x base, each wait between half and all of it (jitter)', async () => {
    const low = await deliver([503, 503, 503, 503, 503], () => 0);
    expect(low).toMatchObject({ ok: false, attempts: 5, waits: [500, 1_000, 2_000, 4_000] });
    expect(low.events).toEqual([expect.objectContaining({ kind: 'webhook', outcome: 'failed', attempts: 5 })]);
    const high = await deliver([503, 503, 503, 503, 503], () => 0.999_999);
    expect(high.waits.map(Math.round)).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it.each([
    [[408, 200], true, 2],
    [[429, 500, 502, 200], true, 4],
    [[400], false, 1],
    [[401], false, 1],
    [[404], false, 1],
    [[410], false, 1],
    [[301], false, 1],
    [[204], true, 1],
  ])('receiver answering %j: delivered %s after %i attempts', async (statuses, ok, attempts) => {
    const r = await deliver(statuses, () => 0.5);
    expect(r.ok).toBe(ok);
    expect(r.attempts).toBe(attempts);
  });

  it('retries what may change (network, 408, 429, 5xx), nothing else', () => {
    expect([undefined, 408, 429, 500, 503, 599].map(retryable)).toEqual([true, true, true, true, true, true]);
    expect([400, 401, 403, 404, 409, 410, 422, 301].map(retryable)).toEqual(Array(8).fill(false));
  });

  it('signs as Standard Webhooks: the reference library verifies a whsec_ secret and a raw one', () => {
    const body = '{"event":"job.finished"}';
    const ts = Math.floor(Date.now() / 1000);
    const whsec = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const headers = (secret: string) => ({
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': standardSignature(secret, 'msg_1', ts, body),
    });
    expect(new Webhook(whsec).verify(body, headers(whsec))).toEqual({ event: 'job.finished' });
    expect(new Webhook('plain secret', { format: 'raw' }).verify(body, headers('plain secret'))).toEqual({
      event: 'job.finished',
    });
    expect(() => new Webhook(whsec).verify(`${body} `, headers(whsec))).toThrow();
  });
});
