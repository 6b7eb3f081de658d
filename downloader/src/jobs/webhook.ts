import { createHmac, randomUUID } from 'node:crypto';
import type { EventInput } from '@dl/shared';
import type { UpstreamClient } from '../upstream/client.ts';

export interface WebhookOptions {
  upstream: UpstreamClient;
  secret: string;
  emit: (event: EventInput) => void;
  maxAttempts?: number;
  /** WEBHOOK_RETRY_BASE_S: the first retry's delay; it doubles per attempt, with jitter. */
  baseDelayMs: number;
  /** Sent as X-Request-Id: the request that created the job. */
  requestId?: string;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  /** How the body is told apart from others: one id per message, the same on every attempt. */
  messageId?: string;
}

/** `sha256=<hex>`: HMAC-SHA256 of the exact body bytes with the shared secret (X-Signature-256). */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * The Standard Webhooks signature: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. A secret
 * written as Standard Webhooks writes them (`whsec_<base64>`) is used as the bytes it encodes; any
 * other secret as its UTF-8 bytes.
 */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** Worth another attempt: the receiver may answer differently later. A 4xx other than these will not. */
export function retryable(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/**
 * Delivers one webhook, signed as Standard Webhooks asks (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`) and, for receivers written against earlier versions, in `X-Signature-256`.
 * Retried on network errors, 408, 429 and 5xx, up to `maxAttempts`, after 1, 2, 4... x
 * baseDelayMs, each wait between half and all of that (jitter: receivers that failed together do
 * not all come back at once). Ends in one webhook event.
 */
export async function deliverWebhook(url: string, payload: unknown, o: WebhookOptions): Promise<boolean> {
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const sleep = o.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const maxAttempts = o.maxAttempts ?? 5;
  const body = JSON.stringify(payload);
  const id = o.messageId ?? `msg_${randomUUID()}`;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    const timestamp = Math.floor(now() / 1000);
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': standardSignature(o.secret, id, timestamp, body),
      'x-signature-256': signature(o.secret, body),
      'x-downloader-event': 'job.finished',
      ...(o.requestId ? { 'x-request-id': o.requestId } : {}),
    };
    let status: number | undefined;
    try {
      status = await o.upstream.post(url, body, headers, AbortSignal.timeout(10_000));
    } catch {
      status = undefined;
    }
    const ok = status !== undefined && status >= 200 && status < 300;
    if (ok || !retryable(status) || attempt >= maxAttempts) {
      o.emit({
        kind: 'webhook',
        ts: now(),
        outcome: ok ? 'ok' : 'failed',
        attempts: attempt,
        duration_s: (now() - started) / 1000,
      });
      return ok;
    }
    const ceiling = o.baseDelayMs * 2 ** (attempt - 1);
    await sleep(ceiling / 2 + random() * (ceiling / 2));
  }
}
