import { randomUUID } from 'node:crypto';
import type { EventInput } from '@dl/shared';
import { targetStatusError, toApiError } from '../apiError.ts';
import { render } from '../content/render.ts';
import type { Semaphore } from '../semaphore.ts';
import type { UpstreamClient } from '../upstream/client.ts';
import type { BatchRequest, JobFormat } from './batchRequest.ts';
import { type Job, statusView, type UrlResult } from './job.ts';
import type { JobStore } from './jobStore.ts';

export interface JobRunnerDeps {
  store: JobStore;
  upstream: UpstreamClient;
  /** The global batch pool: every URL of every job takes one slot while it is fetched. */
  pool: Semaphore;
  emit: (event: EventInput) => void;
  now?: () => number;
  /** Delivers the finished job to its webhook_url (signed); absent when no WEBHOOK_SECRET is set. */
  webhook?: (url: string, payload: unknown) => Promise<boolean>;
}

/** Creates and runs batch jobs; cancel aborts in-flight fetches and skips the queued ones. */
export class JobRunner {
  private readonly running = new Map<string, AbortController>();
  private readonly now: () => number;

  constructor(private readonly deps: JobRunnerDeps) {
    this.now = deps.now ?? Date.now;
  }

  async submit(request: BatchRequest): Promise<Job> {
    const job: Job = {
      job_id: randomUUID(),
      status: 'pending',
      created_at: new Date(this.now()).toISOString(),
      total_urls: request.urls.length,
      completed_urls: 0,
      failed_urls: 0,
      results: [],
      ...(request.webhook_url ? { webhook_url: request.webhook_url } : {}),
    };
    await this.deps.store.put(job);
    this.deps.emit({ kind: 'job', ts: this.now(), status: 'created', urls: job.total_urls });
    const abort = new AbortController();
    this.running.set(job.job_id, abort);
    void this.run(job, request, abort.signal).finally(() => this.running.delete(job.job_id));
    return job;
  }

  async cancel(id: string): Promise<Job | undefined> {
    const job = await this.deps.store.get(id);
    if (!job) return undefined;
    if (job.status === 'pending' || job.status === 'running') {
      job.status = 'cancelled';
      job.completed_at = new Date(this.now()).toISOString();
      await this.deps.store.put(job);
      this.running.get(id)?.abort();
      this.deps.emit({ kind: 'job', ts: this.now(), status: 'cancelled', urls: job.total_urls, duration_s: this.elapsed(job) });
    }
    return job;
  }

  private async run(job: Job, request: BatchRequest, signal: AbortSignal): Promise<void> {
    const queue = request.urls.map((u, index) => ({ index, url: u.url, format: u.format ?? request.default_format }));
    job.results = new Array(queue.length);
    const worker = async () => {
      for (let item = queue.shift(); item && !signal.aborted; item = queue.shift()) {
        const result = await this.deps.pool.run(async () => {
          if (signal.aborted) return undefined;
          if (job.status === 'pending') {
            job.status = 'running';
            job.started_at = new Date(this.now()).toISOString();
          }
          return this.fetchOne(item.url, item.format, request.timeout_per_url, signal);
        });
        if (!result || signal.aborted) return;
        job.results[item.index] = result;
        if (result.success) job.completed_urls++;
        else job.failed_urls++;
        await this.save(job);
      }
    };
    await Promise.all(Array.from({ length: Math.min(request.concurrency_limit, queue.length) }, worker));
    if (signal.aborted) return;
    job.results = job.results.filter(Boolean);
    job.status = job.completed_urls === 0 && job.failed_urls > 0 ? 'failed' : 'completed';
    job.completed_at = new Date(this.now()).toISOString();
    await this.save(job);
    this.deps.emit({ kind: 'job', ts: this.now(), status: job.status, urls: job.total_urls, duration_s: this.elapsed(job) });
    if (job.webhook_url && this.deps.webhook) {
      await this.deps.webhook(job.webhook_url, {
        event: 'job.finished',
        job: statusView(job),
        results_url: `/jobs/${job.job_id}/results`,
      });
    }
  }

  private async fetchOne(url: string, format: JobFormat, timeoutS: number, jobSignal: AbortSignal): Promise<UrlResult> {
    const signal = AbortSignal.any([jobSignal, AbortSignal.timeout(timeoutS * 1000)]);
    try {
      const doc = await this.deps.upstream.fetch(url, { signal });
      if (doc.status >= 400) {
        const e = targetStatusError(doc.status);
        return { url, format, success: false, status_code: doc.status, error: e.message, error_type: e.type };
      }
      const out = render(doc, format);
      const body = typeof out.body === 'string' ? out.body : out.body.toString('utf8');
      return {
        url,
        format,
        success: true,
        status_code: doc.status,
        content_type: out.contentType,
        content: format === 'json' ? JSON.parse(body) : body,
      };
    } catch (err) {
      // The same error_type GET /{url} would answer for this URL.
      const e = toApiError(err);
      return { url, format, success: false, error: e.message, error_type: e.type };
    }
  }

  /** Progress writes during a run: a store hiccup must not kill the run (the next write catches up). */
  private async save(job: Job): Promise<void> {
    await this.deps.store.put(job).catch(() => {});
  }

  private elapsed(job: Job): number {
    return (this.now() - Date.parse(job.created_at)) / 1000;
  }
}
