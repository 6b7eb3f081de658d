import { Worker } from 'node:worker_threads';
import type { ConvertReply, ConvertRequest } from './convertWorker.ts';
import { RenderError } from './render.ts';

/**
 * Text and Markdown conversion in worker threads, each page within a time budget. Parsing and
 * extracting an article is synchronous and, on hostile markup, far from linear: a 550 KB page of
 * 50,000 nested `<div>`s kept the main thread 27 s before overflowing its stack, 600 KB of 200,000
 * unclosed `<b>` 26 s in the parser alone. On the main thread that stalls every request; here a
 * worker that passes the budget is terminated (the only way to stop synchronous code) and replaced,
 * and the page answered `unconvertible_content`; so is one that needs more than its heap bound.
 */
export class ConvertPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private workers = 0;
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: { workers: number; timeoutMs: number; heapMb?: number }) {}

  convert(html: string, url: string, format: ConvertRequest['format']): Promise<string> {
    if (this.closed) return Promise.reject(new Error('the conversion pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, html, url, format }, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the conversion pool is closed'));
    await Promise.all(this.idle.splice(0).map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let worker = this.idle.pop();
      if (!worker) {
        if (this.workers >= this.options.workers) return;
        worker = this.spawn();
      }
      this.run(worker, this.queue.shift() as Job);
    }
  }

  private spawn(): Worker {
    this.workers++;
    // The bundle runs dist/convertWorker.mjs beside dist/downloader.mjs; the sources (tests, tsx) the .ts file.
    const source = import.meta.url.endsWith('.ts');
    // Its heap is bounded: linkedom holds about 70 bytes per byte of HTML (a 2.8 MB page, 192 MB), so a
    // 20 MiB page would take over a gigabyte; past the bound the worker dies and the page is a 422.
    const worker = new Worker(new URL(source ? './convertWorker.ts' : './convertWorker.mjs', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapMb ?? 256 },
    });
    worker.unref(); // an idle worker never keeps the process alive
    // A worker's error outlives the job's listeners (a heap overrun reported as it is terminated):
    // an 'error' nobody listens to would end the process.
    worker.on('error', () => {});
    return worker;
  }

  private run(worker: Worker, job: Job): void {
    const done = (settle: () => void, keep: boolean) => {
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      settle();
      if (keep && !this.closed) this.idle.push(worker);
      else this.retire(worker);
      this.dispatch();
    };
    const onMessage = (reply: ConvertReply) => {
      if (reply.id !== job.request.id) return;
      if ('out' in reply) done(() => job.resolve(reply.out), true);
      else done(() => job.reject(new ConvertError(`the page could not be converted: ${reply.error}`)), true);
    };
    const onError = (err: Error) => done(() => job.reject(new ConvertError(`the conversion failed: ${err.message}`)), false);
    const onExit = () => done(() => job.reject(new ConvertError('the conversion worker exited')), false);
    const timer = setTimeout(
      () =>
        done(() => job.reject(new ConvertError(`the page took more than ${this.options.timeoutMs / 1000} s to convert`)), false),
      this.options.timeoutMs,
    );
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage(job.request);
  }

  private retire(worker: Worker): void {
    this.workers--;
    void worker.terminate();
  }
}

/**
 * A page that cannot be converted (too slow, or too deeply nested): answered 422
 * unconvertible_content, or named in `errors` beside the formats that worked.
 */
export class ConvertError extends RenderError {}

interface Job {
  request: ConvertRequest;
  resolve: (out: string) => void;
  reject: (err: Error) => void;
}
