import type { Job } from './job.ts';

/** Where jobs live: in memory here (Redis when configured is the batch issue's next step). */
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
