import { randomUUID } from 'node:crypto';
import type { EventInput } from '@dl/shared';
import { targetStatusError, toApiError } from '../apiError.ts';
import { type Converter, render } from '../content/render.ts';
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
  /** HTML to text or Markdown (see DownloadDeps.convert). */
  convert?: Converter;
  now?: () => number;
  /** Delivers the finished job to its webhook_url (signed); absent when no WEBHOOK_SECRET is set. */
  webhook?: (url: string, payload: unknown, requestId?: string) => Promise<boolean>;
}

/**
 * Creates and runs batch jobs. The replica that accepts a job runs it; any replica can read or cancel
 * it (through the store). A cancel aborts in-flight fetches and skips the queued ones.
 */
export class JobRunner {
  private readonly running = new Map<string, AbortController>();
  private readonly now: () => number;

  constructor(private readonly deps: JobRunnerDeps) {
    this.now = deps.now ?? Date.now;
    deps.store.onCancel((id) => this.running.get(id)?.abort());
  }

  async submit(request: BatchRequest, requestId?: string): Promise<Job> {
    const job: Job = {
      job_id: randomUUID(),
      status: 'pending',
      created_at: this.iso(),
      total_urls: request.urls.length,
      completed_urls: 0,
      failed_urls: 0,
      results: [],
      ...(request.webhook_url ? { webhook_url: request.webhook_url } : {}),
      ...(requestId ? { request_id: requestId } : {}),
    };
    await this.deps.store.create(job);
    this.deps.emit({ kind: 'job', ts: this.now(), status: 'created', urls: job.total_urls });
    const abort = new AbortController();
    this.running.set(job.job_id, abort);
    void this.run(job, request, abort).finally(() => this.running.delete(job.job_id));
    return job;
  }

  async cancel(id: string): Promise<Job | undefined> {
    const r = await this.deps.store.cancel(id, this.iso());
    if (!r) return undefined;
    if (r.changed) {
      this.running.get(id)?.abort();
      this.deps.emit({
        kind: 'job',
        ts: this.now(),
        status: 'cancelled',
        urls: r.job.total_urls,
        duration_s: this.elapsed(r.job),
      });
    }
    return r.job;
  }

  private async run(job: Job, request: BatchRequest, abort: AbortController): Promise<void> {
    const { signal } = abort;
    const id = job.job_id;
    const queue = request.urls.map((u, index) => ({ index, url: u.url, format: u.format ?? request.default_format }));
    const unsaved: [number, UrlResult][] = [];
    let started = false;
    // Each result is written on its own, one write at a time (the counters must not count one twice);
    // one the store missed is written again with the next.
    const flush = async () => {
      while (unsaved.length) {
        const [i, r] = unsaved[0] as [number, UrlResult];
        // Cancelled on another replica (and its announcement missed): stop here too.
        if (!(await this.deps.store.addResult(id, i, r))) abort.abort();
        unsaved.shift();
      }
    };
    let writes = Promise.resolve();
    const save = (index: number, result: UrlResult) => {
      unsaved.push([index, result]);
      writes = writes.then(flush).catch(() => {});
      return writes;
    };
    const worker = async () => {
      for (let item = queue.shift(); item && !signal.aborted; item = queue.shift()) {
        const result = await this.deps.pool.run(async () => {
          if (signal.aborted) return undefined;
          if (!started) {
            started = true;
            job.started_at = this.iso();
            await this.deps.store.start(id, job.started_at).catch(() => {});
          }
          return this.fetchOne(item.url, item.format, request.timeout_per_url, signal);
        });
        if (!result || signal.aborted) return;
        if (result.success) job.completed_urls++;
        else job.failed_urls++;
        await save(item.index, result);
      }
    };
    await Promise.all(Array.from({ length: Math.min(request.concurrency_limit, queue.length) }, worker));
    if (signal.aborted) return;
    job.status = job.completed_urls === 0 && job.failed_urls > 0 ? 'failed' : 'completed';
    job.completed_at = this.iso();
    await writes;
    const finished = await this.finish(id, job.status, job.completed_at, flush);
    if (!finished) return;
    this.deps.emit({ kind: 'job', ts: this.now(), status: job.status, urls: job.total_urls, duration_s: this.elapsed(job) });
    if (job.webhook_url && this.deps.webhook) {
      await this.deps.webhook(
        job.webhook_url,
        { event: 'job.finished', job: statusView(job), results_url: `/jobs/${id}/results` },
        job.request_id,
      );
    }
  }

  /** Writes what is left and ends the job, a few times over a store hiccup; false if it was cancelled. */
  private async finish(id: string, status: 'completed' | 'failed', at: string, flush: () => Promise<void>) {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await flush();
        return await this.deps.store.finish(id, status, at);
      } catch {
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
    return false;
  }

  private async fetchOne(url: string, format: JobFormat, timeoutS: number, jobSignal: AbortSignal): Promise<UrlResult> {
    const signal = AbortSignal.any([jobSignal, AbortSignal.timeout(timeoutS * 1000)]);
    try {
      const doc = await this.deps.upstream.fetch(url, { signal });
      if (doc.status >= 400) {
        const e = targetStatusError(doc.status);
        return { url, format, success: false, status_code: doc.status, error: e.message, error_type: e.type };
      }
      const out = await render(doc, format, this.deps.convert, signal);
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

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  private elapsed(job: Job): number {
    return (this.now() - Date.parse(job.created_at)) / 1000;
  }
}
