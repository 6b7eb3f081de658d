import { type CacheResult, createRedisClient, type OutputFormat } from '@dl/shared';
import type { Redis } from 'ioredis';

/** One cached rendering of one URL in one format. */
export interface CachedEntry {
  contentType: string;
  originalType: string;
  originalLength: number;
  body: string; // base64
}

export interface ContentCache {
  readonly backend: 'memory' | 'redis';
  get(key: string): Promise<CachedEntry | undefined>;
  set(key: string, entry: CachedEntry): Promise<void>;
  stats(): { backend: 'memory' | 'redis'; entries: number; bytes: number; hits: number; misses: number };
  close(): Promise<void>;
}

const size = (e: CachedEntry) => e.body.length + e.contentType.length + e.originalType.length + 64;

/** An LRU bounded in bytes; entries expire after `ttlMs`. */
export class MemoryCache implements ContentCache {
  readonly backend = 'memory' as const;
  private readonly map = new Map<string, { entry: CachedEntry; expires: number; size: number }>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<CachedEntry | undefined> {
    const e = this.map.get(key);
    if (!e || e.expires <= this.now()) {
      if (e) this.delete(key);
      this.misses++;
      return undefined;
    }
    this.map.delete(key); // refresh recency
    this.map.set(key, e);
    this.hits++;
    return e.entry;
  }

  async set(key: string, entry: CachedEntry): Promise<void> {
    const s = size(entry);
    if (s > this.maxBytes) return;
    this.delete(key);
    this.map.set(key, { entry, expires: this.now() + this.ttlMs, size: s });
    this.bytes += s;
    for (const k of this.map.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(k);
    }
  }

  stats() {
    return { backend: this.backend, entries: this.map.size, bytes: this.bytes, hits: this.hits, misses: this.misses };
  }

  async close(): Promise<void> {}

  private delete(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.bytes -= e.size;
    this.map.delete(key);
  }
}

/**
 * Redis-backed cache. It never queues while disconnected and gives up on a command after
 * `timeoutMs`: a slow or dead Redis is a miss (and a `cache` event with result `error`), never a
 * failed or slow download.
 */
export class RedisCache implements ContentCache {
  readonly backend = 'redis' as const;
  private readonly client: Redis;
  hits = 0;
  misses = 0;

  constructor(
    url: string,
    private readonly ttlMs: number,
    timeoutMs = 250,
  ) {
    this.client = createRedisClient(url, { commandTimeoutMs: timeoutMs });
  }

  get connected(): boolean {
    return this.client.status === 'ready';
  }

  async get(key: string): Promise<CachedEntry | undefined> {
    const raw = await this.client.get(`dl:cache:${key}`);
    if (raw === null) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return JSON.parse(raw) as CachedEntry;
  }

  async set(key: string, entry: CachedEntry): Promise<void> {
    await this.client.set(`dl:cache:${key}`, JSON.stringify(entry), 'PX', this.ttlMs);
  }

  stats() {
    return { backend: this.backend, entries: 0, bytes: 0, hits: this.hits, misses: this.misses };
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

/** Cache lookups that emit their `cache` event and turn any cache failure into a miss. */
export function cacheLayer(cache: ContentCache, event: (result: CacheResult, format: OutputFormat) => void) {
  return {
    async get(url: string, format: OutputFormat): Promise<CachedEntry | undefined> {
      try {
        const hit = await cache.get(`${format}:${url}`);
        event(hit ? 'hit' : 'miss', format);
        return hit;
      } catch {
        event('error', format);
        return undefined;
      }
    },
    async set(url: string, format: OutputFormat, entry: CachedEntry): Promise<void> {
      await cache.set(`${format}:${url}`, entry).catch(() => {});
    },
  };
}
export type CacheLayer = ReturnType<typeof cacheLayer>;
