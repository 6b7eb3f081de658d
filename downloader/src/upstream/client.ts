import { createHash } from 'node:crypto';
import type { EventInput, UpstreamOutcome } from '@dl/shared';
import { Agent, request, errors as undiciErrors } from 'undici';
import { Breakers } from './breaker.ts';
import { BlockedAddressError, SsrfPolicy } from './ssrfPolicy.ts';

export interface FetchResult {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  retries: number;
}

/** A fetch that did not produce a response to return: its outcome is the event's and the API's. */
export class UpstreamError extends Error {
  constructor(
    readonly outcome: Exclude<UpstreamOutcome, 'ok' | 'http_error'> | 'http_error',
    message: string,
    readonly retries = 0,
    readonly status?: number,
    /** The target's Retry-After in seconds, when it asked for a wait longer than the retry budget. */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

export interface UpstreamOptions {
  allowPrivate: boolean;
  /** Exact addresses exempt from the private-address refusal (an internal origin you trust). */
  allowAddresses?: string[];
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  maxRetries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  connections?: number;
  breakerFailures?: number;
  breakerCooldownMs?: number;
  emit?: (event: EventInput) => void;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * The one pooled HTTP client for remote URLs: keep-alive, a connection cap, connect/headers/body
 * timeouts, a streamed size limit, redirects followed by hand (each hop checked), retries with
 * exponential backoff and full jitter, per-host circuit breakers, and SSRF refusal at connect time.
 * Every fetch ends in exactly one `upstream` event.
 */
export class UpstreamClient {
  private readonly agent: Agent;
  /** The SSRF rule this client enforces; the PDF browser and the batch routes ask the same one. */
  readonly policy: SsrfPolicy;
  readonly breakers: Breakers;
  private readonly o: Required<Omit<UpstreamOptions, 'emit'>> & Pick<UpstreamOptions, 'emit'>;

  constructor(options: UpstreamOptions) {
    this.o = {
      connectTimeoutMs: 5_000,
      headersTimeoutMs: 15_000,
      bodyTimeoutMs: 30_000,
      maxBytes: 20 * 1024 * 1024,
      maxRedirects: 5,
      maxRetries: 3,
      retryBaseMs: 200,
      retryMaxMs: 5_000,
      connections: 64,
      allowAddresses: [],
      breakerFailures: 5,
      breakerCooldownMs: 30_000,
      now: Date.now,
      random: Math.random,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...options,
    };
    this.policy = new SsrfPolicy({ allowPrivate: this.o.allowPrivate, allowAddresses: this.o.allowAddresses });
    this.agent = new Agent({
      connections: this.o.connections,
      headersTimeout: this.o.headersTimeoutMs,
      bodyTimeout: this.o.bodyTimeoutMs,
      connect: { timeout: this.o.connectTimeoutMs, lookup: this.policy.lookup },
    });
    this.breakers = new Breakers({
      failureThreshold: this.o.breakerFailures,
      cooldownMs: this.o.breakerCooldownMs,
      now: this.o.now,
    });
  }

  async fetch(url: string, init: { signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<FetchResult> {
    const started = this.o.now();
    let retries = 0;
    const host = hostOf(url);
    const done = (outcome: UpstreamOutcome, status?: number, bytes?: number) =>
      this.o.emit?.({
        kind: 'upstream',
        ts: this.o.now(),
        outcome,
        ...(status ? { status } : {}),
        duration_s: (this.o.now() - started) / 1000,
        retries,
        ...(bytes !== undefined ? { bytes } : {}),
        ...(host ? { host_hash: hostHash(host) } : {}),
      });
    if (!this.breakers.allow(host)) {
      done('circuit_open');
      throw new UpstreamError('circuit_open', `circuit breaker open for ${host}`);
    }
    for (;;) {
      let result: Awaited<ReturnType<UpstreamClient['follow']>>;
      try {
        result = await this.follow(url, init);
      } catch (err) {
        const e = classify(err, retries);
        if (e.outcome === 'network' && retries < this.o.maxRetries && !init.signal?.aborted) {
          await this.o.sleep(this.backoff(retries));
          retries++;
          continue;
        }
        if (e.outcome === 'network' || e.outcome === 'timeout') this.breakers.failure(host);
        done(e.outcome, e.status);
        throw new UpstreamError(e.outcome, e.message, retries, e.status);
      }
      if (RETRY_STATUSES.has(result.status) && retries < this.o.maxRetries) {
        const askedMs = retryAfterMs(result.headers['retry-after'], this.o.now());
        if (askedMs === undefined || askedMs <= this.o.retryMaxMs) {
          await this.o.sleep(askedMs ?? this.backoff(retries));
          retries++;
          continue;
        }
        // Retrying before the time it asked for would only be refused again: say so now.
        const askedS = Math.ceil(askedMs / 1000);
        if (result.status >= 500) this.breakers.failure(host);
        done('http_error', result.status, result.body.length);
        throw new UpstreamError(
          'http_error',
          `the target answered ${result.status} and asked to wait ${askedS} s (Retry-After), beyond the retry budget of ${this.o.retryMaxMs / 1000} s`,
          retries,
          result.status,
          askedS,
        );
      }
      if (result.status >= 500) this.breakers.failure(host);
      else this.breakers.success(host);
      done(result.status >= 400 ? 'http_error' : 'ok', result.status, result.body.length);
      return { ...result, retries };
    }
  }

  /**
   * One POST (webhooks): same pool and SSRF rules, no redirects followed, no retries (the caller
   * owns its retry policy). Resolves with the status; network failures reject with UpstreamError.
   */
  async post(url: string, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<number> {
    const target = this.check(url);
    try {
      const res = await request(target, {
        dispatcher: this.agent,
        method: 'POST',
        headers: { 'user-agent': 'downloader/0.1', 'content-type': 'application/json', ...headers },
        body,
        signal,
      });
      await res.body.dump();
      return res.statusCode;
    } catch (err) {
      throw classify(err, 0);
    }
  }

  /** Connection figures across origins, for /internal/stats. */
  stats(): { healthy: boolean; connections: { active: number; idle: number; pending: number } } {
    let active = 0;
    let idle = 0;
    let pending = 0;
    for (const s of Object.values(this.agent.stats)) {
      const p = s as { connected?: number; free?: number; pending?: number; running?: number };
      active += p.running ?? 0;
      idle += p.free ?? 0;
      pending += p.pending ?? 0;
    }
    return { healthy: !this.agent.destroyed && !this.agent.closed, connections: { active, idle, pending } };
  }

  /** Ends every connection, aborting fetches still running (at shutdown, past the drain: nobody waits for them). */
  close(): Promise<void> {
    return this.agent.destroy();
  }

  /** One request per hop; each redirect target is checked like the first URL. */
  private async follow(start: string, init: { signal?: AbortSignal; headers?: Record<string, string> }) {
    let url = start;
    for (let hop = 0; ; hop++) {
      const target = this.check(url);
      const res = await request(target, {
        dispatcher: this.agent,
        method: 'GET',
        headers: { 'user-agent': 'downloader/0.1', accept: '*/*', ...init.headers },
        signal: init.signal,
      });
      const location = res.headers.location;
      if (REDIRECTS.has(res.statusCode) && typeof location === 'string') {
        await res.body.dump();
        if (hop >= this.o.maxRedirects)
          throw new UpstreamError('http_error', `more than ${this.o.maxRedirects} redirects`, 0, res.statusCode);
        url = new URL(location, target).toString();
        continue;
      }
      const body = await this.readCapped(res);
      return { url: target.toString(), status: res.statusCode, headers: flatten(res.headers), body };
    }
  }

  /** Every hop is checked before its request; host names are checked again at connect time (lookup). */
  private check(url: string): URL {
    const checked = this.policy.check(url);
    if ('refused' in checked) throw new UpstreamError('blocked', checked.refused);
    return checked.url;
  }

  private async readCapped(res: Awaited<ReturnType<typeof request>>): Promise<Buffer> {
    const declared = Number(res.headers['content-length']);
    if (declared > this.o.maxBytes) {
      res.body.destroy();
      throw new UpstreamError('too_large', `response of ${declared} bytes exceeds ${this.o.maxBytes}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > this.o.maxBytes) {
        res.body.destroy();
        throw new UpstreamError('too_large', `response exceeds ${this.o.maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  /** Exponential backoff with full jitter, at most retryMaxMs. */
  private backoff(attempt: number): number {
    return this.o.random() * Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** attempt);
  }
}

/** A Retry-After (seconds, or an HTTP date) as milliseconds from `now`; undefined when absent or malformed. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) || !/[a-z]/i.test(text) ? undefined : Math.max(0, at - now);
}

/** The first 64 bits of SHA-256 of host:port: lets the exporter count distinct targets without knowing them. */
function hostHash(host: string): string {
  return createHash('sha256').update(host).digest('hex').slice(0, 16);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function classify(err: unknown, retries: number): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const e = err as Error & { code?: string; cause?: unknown };
  const blocked = [e, e.cause].find((x) => x instanceof BlockedAddressError) as BlockedAddressError | undefined;
  if (blocked) return new UpstreamError('blocked', blocked.message, retries);
  if (
    e instanceof undiciErrors.HeadersTimeoutError ||
    e instanceof undiciErrors.BodyTimeoutError ||
    e instanceof undiciErrors.ConnectTimeoutError ||
    e.name === 'TimeoutError'
  ) {
    return new UpstreamError('timeout', e.message, retries);
  }
  return new UpstreamError('network', e.message || String(err), retries);
}
