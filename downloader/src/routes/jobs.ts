import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError, errorResponse, RETRY_LATER } from '../apiError.ts';
import { batchRequestSchema, describeIssue } from '../jobs/batchRequest.ts';
import { statusView } from '../jobs/job.ts';
import type { JobRunner } from '../jobs/jobRunner.ts';
import type { JobStore } from '../jobs/jobStore.ts';
import { requestIdOf } from '../telemetry/requestTiming.ts';

export interface JobRouteDeps {
  runner: JobRunner;
  store: JobStore;
  /** Whether webhook_url can be honoured (a WEBHOOK_SECRET to sign with is configured). */
  webhooks: boolean;
  /** BATCH_BODY_MAX_BYTES: larger bodies are refused while they are read, not after. */
  maxBodyBytes: number;
  /** Whether the batch pool can queue `n` more fetches (BATCH_QUEUE_MAX). */
  batchRoom: (n: number) => boolean;
  /** The SSRF rule, asked at submit so a refused webhook_url is a 400 now, not a silent failure later. */
  webhookAllowed: (url: string) => Promise<boolean>;
}

const notFound = (c: Context) => errorResponse(c, new ApiError('not_found', `job ${c.req.param('job_id')} not found`));

/** The job store (Redis) failing is a 503 of its own: the rest of the API still works. */
function guardStore(handler: (c: Context) => Promise<Response>) {
  return async (c: Context) => {
    try {
      return await handler(c);
    } catch {
      return errorResponse(c, new ApiError('jobs_unavailable', 'the job store (Redis) is unavailable; try again shortly'));
    }
  };
}

export function jobRoutes(deps: JobRouteDeps) {
  const routes = {
    submit: async (c: Context) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return errorResponse(c, new ApiError('invalid_request', 'the body must be JSON'));
      }
      const parsed = batchRequestSchema.safeParse(body);
      if (!parsed.success) return errorResponse(c, new ApiError('invalid_request', describeIssue(parsed.error)));
      const bad = parsed.data.urls.find((u) => !/^https?:\/\//i.test(u.url) || !URL.canParse(u.url));
      if (bad) return errorResponse(c, new ApiError('invalid_url', `not an http(s) URL: ${bad.url.slice(0, 200)}`));
      const hook = parsed.data.webhook_url;
      if (hook && !deps.webhooks) {
        return errorResponse(
          c,
          new ApiError('webhooks_disabled', 'webhook_url needs the server to be configured with WEBHOOK_SECRET'),
        );
      }
      if (hook && !(await deps.webhookAllowed(hook))) {
        return errorResponse(
          c,
          new ApiError('invalid_url', `webhook_url is refused: not an http(s) URL of a public address: ${hook.slice(0, 200)}`),
        );
      }
      // The job's workers each wait for a slot: refuse it now rather than queue past the cap.
      if (!deps.batchRoom(Math.min(parsed.data.concurrency_limit, parsed.data.urls.length))) {
        return errorResponse(c, new ApiError('queue_full', 'the batch pool is full; try again shortly', {}, RETRY_LATER));
      }
      const job = await deps.runner.submit(parsed.data, requestIdOf(c.req.raw));
      return c.json(
        {
          job_id: job.job_id,
          status: job.status,
          total_urls: job.total_urls,
          created_at: job.created_at,
          status_url: `/jobs/${job.job_id}/status`,
          results_url: `/jobs/${job.job_id}/results`,
        },
        202,
      );
    },
    status: async (c: Context) => {
      const job = await deps.store.get(c.req.param('job_id') ?? '');
      return job ? c.json(statusView(job)) : notFound(c);
    },
    results: async (c: Context) => {
      const job = await deps.store.get(c.req.param('job_id') ?? '');
      if (!job) return notFound(c);
      return c.json({ ...statusView(job), results: job.results.filter(Boolean) });
    },
    cancel: async (c: Context) => {
      const job = await deps.runner.cancel(c.req.param('job_id') ?? '');
      return job ? c.json(statusView(job)) : notFound(c);
    },
  };
  return {
    bodyLimit: bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: (c) => errorResponse(c, new ApiError('body_too_large', `the body is larger than ${deps.maxBodyBytes} bytes`)),
    }),
    submit: guardStore(routes.submit),
    status: guardStore(routes.status),
    results: guardStore(routes.results),
    cancel: guardStore(routes.cancel),
  };
}
