import { createHmac } from 'node:crypto';
import type { EventInput } from '@dl/shared';
import type { UpstreamClient } from '../upstream/client.ts';

export interface WebhookOptions {
  upstream: UpstreamClient;
  secret: string;
  emit: (event: EventInput) => void;
  maxAttempts?: number;
  /** WEBHOOK_RETRY_BASE_S: the first retry's delay; it doubles per attempt. */
  baseDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** `sha256=<hex>`: HMAC-SHA256 of the exact body bytes with the shared secret. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Delivers one webhook: a JSON body signed in `X-Signature-256`, retried on network errors and
 * non-2xx answers with exponential backoff (1, 2, 4, ... x baseDelayMs). Ends in one webhook event.
 */
export async function deliverWebhook(url: string, payload: unknown, o: WebhookOptions): Promise<boolean> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const maxAttempts = o.maxAttempts ?? 5;
  const body = JSON.stringify(payload);
  const headers = { 'x-signature-256': signature(o.secret, body), 'x-downloader-event': 'job.finished' };
  const started = now();
  for (let attempt = 1; ; attempt++) {
    let ok = false;
    try {
      const status = await o.upstream.post(url, body, headers, AbortSignal.timeout(10_000));
      ok = status >= 200 && status < 300;
    } catch {
      ok = false;
    }
    if (ok || attempt >= maxAttempts) {
      o.emit({
        kind: 'webhook',
        ts: now(),
        outcome: ok ? 'ok' : 'failed',
        attempts: attempt,
        duration_s: (now() - started) / 1000,
      });
      return ok;
    }
    await sleep(o.baseDelayMs * 2 ** (attempt - 1));
  }
}
