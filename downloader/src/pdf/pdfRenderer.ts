import { existsSync } from 'node:fs';
import type { EventInput, PdfOutcome } from '@dl/shared';
import type { Browser } from 'playwright-core';
import { QueueFullError, type Semaphore } from '../semaphore.ts';
import type { SsrfPolicy } from '../upstream/ssrfPolicy.ts';
import { CHROMIUM_FLAGS } from './chromiumFlags.ts';
import { EgressProxy } from './egressProxy.ts';

export interface PdfOptions {
  executablePath: string;
  pool: Semaphore;
  /** The one SSRF rule (the upstream client's), enforced on every connection the browser makes. */
  policy: SsrfPolicy;
  /** PDF_TIMEOUT_S. */
  timeoutMs: number;
  emit: (event: EventInput) => void;
  /** The browser's way out; one on `policy` unless given. */
  proxy?: EgressProxy;
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
 * in its own context and a slot of the PDF pool. The browser reaches the network only through the
 * egress proxy, which applies the SSRF rule to every connection; each context presents its own
 * credentials there, so what the proxy refused is known per render.
 */
export class PdfRenderer {
  private browser: Promise<Browser> | undefined;
  private readonly policy: SsrfPolicy;
  private readonly proxy: EgressProxy;

  constructor(private readonly o: PdfOptions) {
    this.policy = o.policy;
    this.proxy = o.proxy ?? new EgressProxy(o.policy);
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
      const pass = this.proxy.open();
      const context = await browser.newContext({
        javaScriptEnabled: true,
        // '<-loopback>' takes away Chromium's implicit bypass: loopback goes through the proxy too.
        proxy: { server: await this.proxy.start(), bypass: '<-loopback>', username: pass.username, password: pass.password },
      });
      // Every step races the client's signal: when it goes, the job ends at once and the slot is
      // free; the context is closed behind it, which stops Chromium's work on the page.
      const gone = new Promise<never>((_, reject) => {
        const onAbort = () => reject(new PdfError('abandoned', 'the client went away; the render was stopped'));
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
      gone.catch(() => {});
      const step = <T>(p: Promise<T>) => Promise.race([p, gone]);
      // The navigation itself was refused (a hop of it led to a private address): the browser got
      // a failed tunnel, or the proxy's refusal as the page.
      const refusedNavigation = () =>
        new PdfError('blocked', `the page led to an address that is not public: ${[...pass.refused].join(', ')}`);
      try {
        const page = await step(context.newPage());
        const response = await step(page.goto(url, { waitUntil: 'load', timeout: this.o.timeoutMs })).catch((err: Error) => {
          throw pass.refused.size > 0 && !signal?.aborted ? refusedNavigation() : err;
        });
        if (response && pass.refused.has(new URL(response.url()).hostname)) throw refusedNavigation();
        const pdf = await step(page.pdf({ format: 'A4', printBackground: true }));
        done('ok');
        return pdf;
      } catch (err) {
        if (err instanceof PdfError && err.outcome === 'blocked') {
          done('error');
          throw err;
        }
        if (signal?.aborted) {
          done('abandoned');
          throw new PdfError('abandoned', 'the client went away; the render was stopped');
        }
        const timeout = (err as Error).name === 'TimeoutError';
        done(timeout ? 'timeout' : 'error');
        throw new PdfError(timeout ? 'timeout' : 'error', (err as Error).message.split('\n')[0] ?? 'render failed');
      } finally {
        const closing = context.close().catch(() => {});
        if (!signal?.aborted) await closing;
        pass.close();
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
    await this.proxy.stop();
  }

  private launch(): Promise<Browser> {
    // The browser-wide proxy carries no credentials: anything outside a render's context (there
    // should be nothing) gets 407 and goes nowhere.
    this.browser ??= Promise.all([import('playwright-core'), this.proxy.start()])
      .then(([{ chromium }, server]) =>
        chromium.launch({
          executablePath: this.o.executablePath,
          headless: true,
          args: CHROMIUM_FLAGS,
          proxy: { server, bypass: '<-loopback>' },
        }),
      )
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
