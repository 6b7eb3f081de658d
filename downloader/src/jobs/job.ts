import type { ErrorType } from '@dl/shared';
import type { JobFormat } from './batchRequest.ts';

export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface UrlResult {
  url: string;
  format: JobFormat;
  success: boolean;
  status_code?: number;
  content_type?: string;
  content?: unknown;
  error?: string;
  error_type?: ErrorType;
}

export interface Job {
  job_id: string;
  status: JobStatus;
  created_at: string;
  started_at?: string;
  completed_at?: string;
  total_urls: number;
  completed_urls: number;
  failed_urls: number;
  results: UrlResult[];
  webhook_url?: string;
  /** The X-Request-Id of the POST /batch that created it. */
  request_id?: string;
}

export function statusView(job: Job) {
  const done = job.completed_urls + job.failed_urls;
  return {
    job_id: job.job_id,
    status: job.status,
    progress: {
      total: job.total_urls,
      completed: job.completed_urls,
      failed: job.failed_urls,
      percent: job.total_urls ? Math.round((1000 * done) / job.total_urls) / 10 : 100,
    },
    created_at: job.created_at,
    started_at: job.started_at ?? null,
    completed_at: job.completed_at ?? null,
    ...(job.request_id ? { request_id: job.request_id } : {}),
  };
}
