import { BATCH_FORMATS } from '@dl/shared';
import * as z from 'zod';

const format = z.enum(BATCH_FORMATS);

/** POST /batch, as the original service took it, plus an optional webhook. */
export const batchRequestSchema = z
  .object({
    urls: z
      .array(z.object({ url: z.string().min(1).max(2048), format: format.optional() }).strict())
      .min(1, 'urls must hold at least one entry')
      .max(100, 'at most 100 URLs per batch'),
    default_format: format.default('text'),
    concurrency_limit: z.number().int().min(1).max(50).default(5),
    timeout_per_url: z.number().min(1).max(300).default(30),
    webhook_url: z.string().url().max(2048).optional(),
  })
  .strict();

export type BatchRequest = z.infer<typeof batchRequestSchema>;
export type JobFormat = z.infer<typeof format>;

/** The first problem, as one line a caller can act on. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request body';
  const path = issue.path.join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
