import { existsSync } from 'node:fs';
import type { EventInput, PdfOutcome } from '@dl/shared';
import type { Browser } from 'playwright-core';
import { QueueFullError, type Semaphore } from '../semaphore.ts';
import type { SsrfPolicy } from '../upstream/ssrfPolicy.ts';
import { CHROMIUM_FLAGS } from './chromiumFlags.ts';

export interface PdfOptions {
  executablePath: string;
  pool: Semaphore;
  /** The one SSRF rule (the upstream client's), asked for every request the page makes. */
  policy: SsrfPolicy;
  /** PDF_TIMEOUT_S. */
  timeoutMs: number;
  emit: (event: EventInput) => void;
}

/** Why a render produced no PDF; the route maps it to 503/504/403/502. */
export class PdfError extends Error {
  constructor(
    readonly outcome: Exclude<PdfOutcome, 'ok'> | 'blocked',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Renders pages to PDF with one reused Chromium (playwright-core, the system browser), each render
 * in its own context and a slot of the PDF pool. Every request the page makes, the navigation
 * included, is checked against the SSRF rules first.
 */
export class PdfRenderer {
  private browser: Promise<Browser> | undefined;
  private readonly policy: SsrfPolicy;

  constructor(private readonly o: PdfOptions) {
    this.policy = o.policy;
  }

  /** Whether a browser can be used: the executable exists and has not failed to launch. */
  get available(): boolean {
    return existsSync(this.o.executablePath) && this.launchFailed === undefined;
  }

  private launchFailed: string | undefined;

  /**
   * Renders `url`. Refused at once when the PDF queue is full; abandoned (out of the queue, or its
   * page closed) when `signal` aborts, as it does when the client goes away.
   */
  async render(url: string, signal?: AbortSignal): Promise<Buffer> {
    const started = performance.now();
    const done = (outcome: PdfOutcome) =>
      this.o.emit({ kind: 'pdf', ts: Date.now(), outcome, duration_s: (performance.now() - started) / 1000 });
    if (!this.available) {
      done('unavailable');
      throw new PdfError(
        'unavailable',
        `no browser at ${this.o.executablePath}${this.launchFailed ? `: ${this.launchFailed}` : ''}`,
      );
    }
    if (!(await this.policy.allows(url))) {
      done('error');
      throw new PdfError('blocked', `${url} is not a public address`);
    }
    const job = async () => {
      let browser: Browser;
      try {
        browser = await this.launch();
      } catch (err) {
        done('unavailable');
        throw new PdfError('unavailable', (err as Error).message);
      }
      const context = await browser.newContext({ javaScriptEnabled: true });
      // Every step races the client's signal: when it goes, the job ends at once and the slot is
      // free; the context is closed behind it, which stops Chromium's work on the page.
      const gone = new Promise<never>((_, reject) => {
        const onAbort = () => reject(new PdfError('abandoned', 'the client went away; the render was stopped'));
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
      gone.catch(() => {});
      const step = <T>(p: Promise<T>) => Promise.race([p, gone]);
      try {
        await step(
          context.route('**/*', async (route) =>
            (await this.policy.allows(route.request().url())) ? route.continue() : route.abort('blockedbyclient'),
          ),
        );
        const page = await step(context.newPage());
        await step(page.goto(url, { waitUntil: 'load', timeout: this.o.timeoutMs }));
        const pdf = await step(page.pdf({ format: 'A4', printBackground: true }));
        done('ok');
        return pdf;
      } catch (err) {
        if (signal?.aborted) {
          done('abandoned');
          throw new PdfError('abandoned', 'the client went away; the render was stopped');
        }
        const timeout = (err as Error).name === 'TimeoutError';
        done(timeout ? 'timeout' : 'error');
        throw new PdfError(timeout ? 'timeout' : 'error', (err as Error).message.split('\n')[0] ?? 'render failed');
      } finally {
        const closing = context
          .unrouteAll({ behavior: 'ignoreErrors' })
          .catch(() => {})
          .then(() => context.close())
          .catch(() => {});
        if (!signal?.aborted) await closing;
      }
    };
    try {
      return await this.o.pool.run(job, signal);
    } catch (err) {
      if (err instanceof QueueFullError) {
        done('queue_full');
        throw new PdfError('queue_full', `every PDF slot is busy and ${this.o.pool.maxQueue} renders wait; try again shortly`);
      }
      if (signal?.aborted && !(err instanceof PdfError)) {
        done('abandoned'); // left the queue before it started
        throw new PdfError('abandoned', 'the client went away before the render started');
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    const b = await this.browser?.catch(() => undefined);
    await b?.close().catch(() => {});
  }

  private launch(): Promise<Browser> {
    this.browser ??= import('playwright-core')
      .then(({ chromium }) => chromium.launch({ executablePath: this.o.executablePath, headless: true, args: CHROMIUM_FLAGS }))
      .then((b) => {
        b.on('disconnected', () => {
          this.browser = undefined; // relaunch on next use
        });
        return b;
      })
      .catch((err: Error) => {
        this.launchFailed = err.message.split('\n')[0];
        this.browser = undefined;
        throw err;
      });
    return this.browser;
  }
}
