import { Worker } from 'node:worker_threads';
import { QueueFullError, Semaphore } from '../semaphore.ts';
import type { ConvertReply, ConvertRequest } from './convertWorker.ts';
import { RenderError } from './render.ts';

/**
 * Text and Markdown conversion in worker threads, each page within a time budget. Parsing and
 * extracting an article is synchronous and, on hostile markup, far from linear: a 550 KB page of
 * 50,000 nested `<div>`s kept the main thread 27 s before overflowing its stack, 600 KB of 200,000
 * unclosed `<b>` 26 s in the parser alone. On the main thread that stalls every request; here a
 * worker that passes the budget is terminated (the only way to stop synchronous code) and replaced,
 * and the page answered `unconvertible_content`; so is one that needs more than its heap bound.
 * Pages wait for a worker in the project's bounded Semaphore queue, leaving it when their client goes.
 */
export class ConvertPool {
  private readonly idle: Worker[] = [];
  private readonly slots: Semaphore;
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: { workers: number; timeoutMs: number; heapMb?: number; queueMax?: number }) {
    this.slots = new Semaphore(options.workers, options.queueMax);
  }

  async convert(html: string, url: string, format: ConvertRequest['format'], signal?: AbortSignal): Promise<string> {
    if (this.closed) throw new ConvertError('unconvertible', 'the conversion pool is closed');
    let release: () => void;
    try {
      release = await this.slots.acquire(signal);
    } catch (err) {
      if (err instanceof QueueFullError) throw new ConvertError('queue_full', `conversion ${err.message}`);
      throw new ConvertError('abandoned', 'the client went away before its page was converted');
    }
    try {
      return await this.run(this.idle.pop() ?? this.spawn(), { id: this.nextId++, html, url, format });
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.idle.splice(0).map((w) => w.terminate()));
  }

  private spawn(): Worker {
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

  /** One page on one worker; the worker goes back to `idle` after an answer, is terminated otherwise. */
  private run(worker: Worker, request: ConvertRequest): Promise<string> {
    return new Promise((resolve, reject) => {
      const done = (keep: boolean, settle: () => void) => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (keep && !this.closed) this.idle.push(worker);
        else void worker.terminate();
        settle();
      };
      const fail = (keep: boolean, message: string) => done(keep, () => reject(new ConvertError('unconvertible', message)));
      const onMessage = (reply: ConvertReply) => {
        if (reply.id !== request.id) return;
        if ('out' in reply) done(true, () => resolve(reply.out));
        else fail(true, `the page could not be converted: ${reply.error}`);
      };
      const onError = (err: Error) => fail(false, `the conversion failed: ${err.message}`);
      const onExit = () => fail(false, 'the conversion worker exited');
      const timer = setTimeout(
        () => fail(false, `the page took more than ${this.options.timeoutMs / 1000} s to convert`),
        this.options.timeoutMs,
      );
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage(request);
    });
  }
}

/**
 * A page that was not converted: `unconvertible` (too slow, too large, nested past the stack) is a
 * 422 `unconvertible_content`, `queue_full` a 503, `abandoned` (its client left while it waited) a
 * 499; beside formats that worked, its message goes in `errors`.
 */
export class ConvertError extends RenderError {
  constructor(
    readonly outcome: 'unconvertible' | 'queue_full' | 'abandoned',
    message: string,
  ) {
    super(message);
  }
}
