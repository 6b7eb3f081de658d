import { createHash } from 'node:crypto';
import type { Rate } from '@dl/shared';
import type { Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Request-rate limits per endpoint class, as the original service has them: fixed windows from
 * rate-limiter-flexible (maintained, atomic in Redis through one Lua script). With a Redis client
 * every replica draws on one budget; when Redis is away each class falls back to its in-memory
 * insurance limiter, so limits still hold and requests go on. A key over its limit is then refused
 * from memory until its window ends, without asking Redis again.
 */

export const LIMIT_CLASSES = ['status', 'download', 'batch', 'default'] as const;
export type LimitClass = (typeof LIMIT_CLASSES)[number];

export interface RateLimitOptions {
  rates: Record<LimitClass, Rate>;
  /** Shared budget across replicas; without it each process counts alone. */
  redis?: Redis;
  /** RATELIMIT_HEADERS_ENABLED: X-RateLimit-* and the IETF RateLimit / RateLimit-Policy fields. */
  headers: boolean;
  now?: () => number;
}

export interface Verdict {
  allowed: boolean;
  headers: Record<string, string>;
  /** Seconds until the window ends (for Retry-After and the message). */
  retryAfterS: number;
  rate: Rate;
}

export class RateLimits {
  private readonly limiters: Record<LimitClass, RateLimiterMemory | RateLimiterRedis>;
  private readonly now: () => number;

  constructor(private readonly o: RateLimitOptions) {
    this.now = o.now ?? Date.now;
    const make = (cls: LimitClass) => {
      const { points, seconds: duration } = o.rates[cls];
      const keyPrefix = `dl:rl:${cls}`;
      const memory = new RateLimiterMemory({ points, duration, keyPrefix });
      if (!o.redis) return memory;
      return new RateLimiterRedis({
        storeClient: o.redis,
        points,
        duration,
        keyPrefix,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory,
        inMemoryBlockOnConsumed: points + 1,
      });
    };
    this.limiters = { status: make('status'), download: make('download'), batch: make('batch'), default: make('default') };
  }

  /** Takes one request from `key`'s budget for `cls`. A limiter that fails lets the request through. */
  async take(cls: LimitClass, key: string): Promise<Verdict | undefined> {
    let res: RateLimiterRes;
    let allowed = true;
    try {
      res = await this.limiters[cls].consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) return undefined;
      res = err;
      allowed = false;
    }
    const rate = this.o.rates[cls];
    const resetS = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    const headers: Record<string, string> = this.o.headers
      ? {
          'x-ratelimit-limit': String(rate.points),
          'x-ratelimit-remaining': String(res.remainingPoints),
          'x-ratelimit-reset': String(Math.ceil((this.now() + res.msBeforeNext) / 1000)),
          'ratelimit-policy': `"${cls}";q=${rate.points};w=${rate.seconds}`,
          ratelimit: `"${cls}";r=${res.remainingPoints};t=${resetS}`,
        }
      : {};
    if (!allowed) headers['retry-after'] = String(resetS);
    return { allowed, headers, retryAfterS: resetS, rate };
  }
}

/**
 * Whose budget a request draws on: the API key's when it carries the right one (hashed: the key never
 * reaches Redis), else its address. IPv6 counts per /64, the block one host is usually given, so a
 * client cannot pass the limit by walking through its own addresses.
 */
export function clientKey(address: string | undefined, apiKey?: string): string {
  if (apiKey) return `key:${createHash('sha256').update(apiKey).digest('hex').slice(0, 32)}`;
  if (!address || !ipaddr.isValid(address)) return 'addr:unknown';
  const ip = ipaddr.process(address);
  if (ip.kind() === 'ipv4') return `addr:${ip.toString()}`;
  const parts = (ip as ipaddr.IPv6).parts.slice(0, 4);
  return `addr:${parts.map((p) => p.toString(16)).join(':')}::/64`;
}
