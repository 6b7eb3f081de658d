import { createRedisClient } from '@dl/shared';
import type { Redis } from 'ioredis';
import type { Job, JobStatus, UrlResult } from './job.ts';

/**
 * Where jobs live: Redis when REDIS_URL is set (every replica sees every job), else memory. A job is
 * written in pieces, never rewritten whole: its fixed fields once, each URL's result on its own, its
 * status only through transitions that cannot undo a cancel. A cancel is announced to every
 * replica, and a runner also learns of it from its next result write.
 */
export interface JobStore {
  create(job: Job): Promise<void>;
  get(id: string): Promise<Job | undefined>;
  /** pending -> running, once. */
  start(id: string, at: string): Promise<void>;
  /** Stores one URL's result; false when the job no longer runs (cancelled, perhaps on another replica, or gone). */
  addResult(id: string, index: number, result: UrlResult): Promise<boolean>;
  /** running -> completed or failed; false when it was cancelled first. */
  finish(id: string, status: 'completed' | 'failed', at: string): Promise<boolean>;
  /** pending or running -> cancelled; `changed` is false for a job that had already ended. */
  cancel(id: string, at: string): Promise<{ job: Job; changed: boolean } | undefined>;
  /** Called with the id of every job cancelled anywhere, so the replica running it can stop. */
  onCancel(listener: (id: string) => void): void;
  close(): Promise<void>;
}

type Fixed = Pick<Job, 'job_id' | 'created_at' | 'total_urls' | 'webhook_url' | 'request_id'>;

const ACTIVE: readonly JobStatus[] = ['pending', 'running'];
/** A job still running after this long is a leftover of a replica that died with it. */
const RUNNING_TTL_MS = 7 * 24 * 3600_000;

function fixedOf(job: Job): Fixed {
  const { job_id, created_at, total_urls, webhook_url, request_id } = job;
  return { job_id, created_at, total_urls, ...(webhook_url ? { webhook_url } : {}), ...(request_id ? { request_id } : {}) };
}

interface MemoryEntry {
  fixed: Fixed;
  status: JobStatus;
  started_at?: string;
  completed_at?: string;
  results: Map<number, UrlResult>;
  completed: number;
  failed: number;
  expires: number;
}

/** In-memory jobs, forgotten `ttlMs` after they end. One process: only for a single replica. */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, MemoryEntry>();
  private readonly listeners: ((id: string) => void)[] = [];

  constructor(
    private readonly ttlMs = 24 * 3600_000,
    private readonly now: () => number = Date.now,
  ) {}

  async create(job: Job): Promise<void> {
    this.sweep();
    this.jobs.set(job.job_id, {
      fixed: fixedOf(job),
      status: job.status,
      results: new Map(),
      completed: 0,
      failed: 0,
      expires: this.now() + RUNNING_TTL_MS,
    });
  }

  async get(id: string): Promise<Job | undefined> {
    const e = this.live(id);
    if (!e) return undefined;
    return {
      ...e.fixed,
      status: e.status,
      ...(e.started_at ? { started_at: e.started_at } : {}),
      ...(e.completed_at ? { completed_at: e.completed_at } : {}),
      completed_urls: e.completed,
      failed_urls: e.failed,
      results: [...e.results.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r),
    };
  }

  async start(id: string, at: string): Promise<void> {
    const e = this.live(id);
    if (e?.status === 'pending') Object.assign(e, { status: 'running', started_at: at });
  }

  async addResult(id: string, index: number, result: UrlResult): Promise<boolean> {
    const e = this.live(id);
    if (!e || !ACTIVE.includes(e.status)) return false;
    e.results.set(index, result);
    if (result.success) e.completed++;
    else e.failed++;
    return true;
  }

  async finish(id: string, status: 'completed' | 'failed', at: string): Promise<boolean> {
    return this.end(id, status, at);
  }

  async cancel(id: string, at: string): Promise<{ job: Job; changed: boolean } | undefined> {
    if (!this.live(id)) return undefined;
    const changed = this.end(id, 'cancelled', at);
    if (changed) for (const l of this.listeners) l(id);
    return { job: (await this.get(id)) as Job, changed };
  }

  onCancel(listener: (id: string) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {}

  private end(id: string, status: JobStatus, at: string): boolean {
    const e = this.live(id);
    if (!e || !ACTIVE.includes(e.status)) return false;
    Object.assign(e, { status, completed_at: at, expires: this.now() + this.ttlMs });
    return true;
  }

  private live(id: string): MemoryEntry | undefined {
    const e = this.jobs.get(id);
    return e && e.expires > this.now() ? e : undefined;
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, e] of this.jobs) if (e.expires <= t) this.jobs.delete(id);
  }
}

// Each transition is one script, so two replicas can never interleave a read and a write of it.
const SCRIPTS = {
  jobStart: `if redis.call('hget', KEYS[1], 'status') == 'pending' then
  redis.call('hset', KEYS[1], 'status', 'running', 'started_at', ARGV[1]) end
return 1`,
  jobResult: `local s = redis.call('hget', KEYS[1], 'status')
if s ~= 'pending' and s ~= 'running' then return 0 end
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
redis.call('hincrby', KEYS[1], ARGV[3], 1)
return 1`,
  jobEnd: `local s = redis.call('hget', KEYS[1], 'status')
if s ~= 'pending' and s ~= 'running' then return 0 end
redis.call('hset', KEYS[1], 'status', ARGV[1], 'completed_at', ARGV[2])
redis.call('pexpire', KEYS[1], ARGV[3])
if ARGV[1] == 'cancelled' then redis.call('publish', ARGV[4], ARGV[5]) end
return 1`,
} as const;

type Scripted = Redis & {
  jobStart(key: string, at: string): Promise<number>;
  jobResult(key: string, field: string, json: string, counter: string): Promise<number>;
  jobEnd(key: string, status: string, at: string, ttlMs: number, channel: string, id: string): Promise<number>;
};

const CANCEL_CHANNEL = 'dl:jobs:cancelled';

/**
 * Jobs in Redis, one hash per job (`dl:job:<id>`): `fixed` (the fields that never change, JSON),
 * `status`, `started_at`, `completed_at`, the `completed` and `failed` counters, and `r:<index>` per
 * finished URL. Ended jobs expire after `ttlMs`. Cancels are published on `dl:jobs:cancelled`.
 * Commands fail fast while Redis is away: the routes answer 503.
 */
export class RedisJobStore implements JobStore {
  private readonly client: Scripted;
  private readonly subscriber: Redis;
  private readonly listeners: ((id: string) => void)[] = [];

  constructor(
    url: string,
    private readonly ttlMs = 24 * 3600_000,
  ) {
    this.client = createRedisClient(url, { commandTimeoutMs: 1_000 }) as Scripted;
    for (const [name, lua] of Object.entries(SCRIPTS)) this.client.defineCommand(name, { numberOfKeys: 1, lua });
    this.subscriber = createRedisClient(url);
    // Without an offline queue a subscribe must wait for the connection; ioredis resubscribes after reconnects.
    this.subscriber.on('ready', () => void this.subscriber.subscribe(CANCEL_CHANNEL).catch(() => {}));
    this.subscriber.on('message', (_channel: string, id: string) => {
      for (const l of this.listeners) l(id);
    });
  }

  async create(job: Job): Promise<void> {
    const key = `dl:job:${job.job_id}`;
    await this.client
      .multi()
      .hset(key, { fixed: JSON.stringify(fixedOf(job)), status: job.status, completed: 0, failed: 0 })
      .pexpire(key, RUNNING_TTL_MS)
      .exec();
  }

  async get(id: string): Promise<Job | undefined> {
    const h = await this.client.hgetall(`dl:job:${id}`);
    if (!h.fixed) return undefined;
    const results: [number, UrlResult][] = [];
    for (const [field, value] of Object.entries(h)) {
      if (field.startsWith('r:')) results.push([Number(field.slice(2)), JSON.parse(value) as UrlResult]);
    }
    results.sort((a, b) => a[0] - b[0]);
    return {
      ...(JSON.parse(h.fixed) as Fixed),
      status: h.status as JobStatus,
      ...(h.started_at ? { started_at: h.started_at } : {}),
      ...(h.completed_at ? { completed_at: h.completed_at } : {}),
      completed_urls: Number(h.completed ?? 0),
      failed_urls: Number(h.failed ?? 0),
      results: results.map(([, r]) => r),
    };
  }

  async start(id: string, at: string): Promise<void> {
    await this.client.jobStart(`dl:job:${id}`, at);
  }

  async addResult(id: string, index: number, result: UrlResult): Promise<boolean> {
    const counter = result.success ? 'completed' : 'failed';
    return (await this.client.jobResult(`dl:job:${id}`, `r:${index}`, JSON.stringify(result), counter)) === 1;
  }

  async finish(id: string, status: 'completed' | 'failed', at: string): Promise<boolean> {
    return (await this.client.jobEnd(`dl:job:${id}`, status, at, this.ttlMs, CANCEL_CHANNEL, id)) === 1;
  }

  async cancel(id: string, at: string): Promise<{ job: Job; changed: boolean } | undefined> {
    const changed = (await this.client.jobEnd(`dl:job:${id}`, 'cancelled', at, this.ttlMs, CANCEL_CHANNEL, id)) === 1;
    const job = await this.get(id);
    return job ? { job, changed } : undefined;
  }

  onCancel(listener: (id: string) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.client.disconnect();
    this.subscriber.disconnect();
  }
}
