import { createRedisClient } from '@dl/shared';
import type { Redis } from 'ioredis';
import type { Job } from './job.ts';

/** Where jobs live: Redis when REDIS_URL is set, else memory. */
export interface JobStore {
  put(job: Job): Promise<void>;
  get(id: string): Promise<Job | undefined>;
}

/** In-memory jobs, forgotten `ttlMs` after they finish. */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, { job: Job; expires: number }>();

  constructor(
    private readonly ttlMs = 24 * 3600_000,
    private readonly now: () => number = Date.now,
  ) {}

  async put(job: Job): Promise<void> {
    this.sweep();
    const finished = job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled';
    this.jobs.set(job.job_id, { job, expires: finished ? this.now() + this.ttlMs : Number.POSITIVE_INFINITY });
  }

  async get(id: string): Promise<Job | undefined> {
    const e = this.jobs.get(id);
    if (!e || e.expires <= this.now()) return undefined;
    return e.job;
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, e] of this.jobs) if (e.expires <= t) this.jobs.delete(id);
  }
}

/**
 * Jobs in Redis, one JSON value per job with a TTL (finished jobs expire after `ttlMs`, running ones
 * after a week as a safety net). Commands fail fast while Redis is away: the routes answer 503.
 */
export class RedisJobStore implements JobStore {
  private readonly client: Redis;

  constructor(
    url: string,
    private readonly ttlMs = 24 * 3600_000,
  ) {
    this.client = createRedisClient(url, { commandTimeoutMs: 1_000 });
  }

  async put(job: Job): Promise<void> {
    const finished = job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled';
    await this.client.set(`dl:job:${job.job_id}`, JSON.stringify(job), 'PX', finished ? this.ttlMs : 7 * 24 * 3600_000);
  }

  async get(id: string): Promise<Job | undefined> {
    const raw = await this.client.get(`dl:job:${id}`);
    return raw === null ? undefined : (JSON.parse(raw) as Job);
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
