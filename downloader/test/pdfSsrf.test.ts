// PDF SSRF end to end, with DOWNLOADER_ALLOW_PRIVATE off: the real Chromium renders pages of a
// "public" host that try every way into loopback. The public host is an origin on 127.0.0.2 that
// the policy's resolver names `public.test` and lets through as if it were public; the canary on
// 127.0.0.1 holds the secret and counts every TCP connection it accepts. Nothing may reach it.
import { spawnSync } from 'node:child_process';
import type { LookupAddress } from 'node:dns';
import { Origin, requireBinary } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressProxy } from '../src/pdf/egressProxy.ts';
import { PdfError, PdfRenderer } from '../src/pdf/pdfRenderer.ts';
import { Semaphore } from '../src/semaphore.ts';
import { SsrfPolicy } from '../src/upstream/ssrfPolicy.ts';

const ok = requireBinary('chromium') && requireBinary('pdftotext');
const SECRET = 'CANARY-SECRET-7f3a';

const pdfText = (pdf: Buffer) => spawnSync('pdftotext', ['-', '-'], { input: pdf, encoding: 'utf8' }).stdout;

describe.skipIf(!ok)('every connection of the PDF browser meets the SSRF rule', () => {
  const site = new Origin('127.0.0.2');
  const canary = new Origin('127.0.0.1');
  const lookups = new Map<string, number>();
  // public.test is the site; rebind.test answers the site's address once, then loopback.
  const resolve = async (host: string): Promise<LookupAddress[]> => {
    const n = (lookups.get(host) ?? 0) + 1;
    lookups.set(host, n);
    if (host === 'public.test') return [{ address: '127.0.0.2', family: 4 }];
    if (host === 'rebind.test') return [{ address: n === 1 ? '127.0.0.2' : '127.0.0.1', family: 4 }];
    if (host === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
    throw Object.assign(new Error(`no such host ${host}`), { code: 'ENOTFOUND' });
  };
  const policy = new SsrfPolicy({ allowPrivate: false, allowAddresses: ['127.0.0.2'], resolve });
  const proxy = new EgressProxy(policy);
  const renderer = new PdfRenderer({
    executablePath: '/usr/bin/chromium',
    pool: new Semaphore(2, 4),
    policy,
    proxy,
    timeoutMs: 15_000,
    emit: () => {},
  });
  let pub = '';
  let secret = '';

  beforeAll(async () => {
    await site.start();
    await canary.start();
    pub = `http://public.test:${site.port}`;
    secret = `127.0.0.1:${canary.port}`;
    canary.static('/secret', 'text/html', `<h1>${SECRET}</h1>`);
    site.route('/hop', (req, res) => {
      const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to') ?? '/';
      res.writeHead(302, { location: to }).end();
    });
    site.static('/ok.png', 'image/gif', Buffer.from('R0lGODlhAQABAAAAACwAAAAAAQABAAA=', 'base64'));
    // Holds the load event for a moment, so the page's scripts have made every attempt.
    site.route('/slow.png', (_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'image/gif' }).end(), 1_500);
    });
    const hop = (what: string, to = `http://${secret}/secret?via=${what}`) => `${pub}/hop?to=${encodeURIComponent(to)}`;
    site.static(
      '/page',
      'text/html',
      `<!doctype html><html><body><h1>Public page</h1>
<img src="${pub}/ok.png">
<iframe src="${hop('iframe')}"></iframe>
<img src="${hop('img')}">
<img src="${hop('mapped', `http://[::ffff:127.0.0.1]:${canary.port}/secret`)}">
<img src="http://${secret}/secret?direct-img">
<img src="https://${secret}/secret?tls">
<link rel="prefetch" href="http://${secret}/secret?prefetch">
<img src="${pub}/slow.png">
<script>
fetch(${JSON.stringify(hop('fetch'))}).catch(() => {});
fetch('http://localhost:${canary.port}/secret?localhost').catch(() => {});
try { new WebSocket('ws://${secret}/ws'); } catch {}
new Worker(URL.createObjectURL(new Blob(["fetch('http://${secret}/secret?worker').catch(() => {})"], { type: 'text/javascript' })));
</script></body></html>`,
    );
  });
  afterAll(async () => {
    await renderer.close();
    await site.stop();
    await canary.stop();
  });

  it('renders the public page and its public image, and nothing of loopback', async () => {
    const pdf = await renderer.render(`${pub}/page`);
    const text = pdfText(pdf);
    expect(text).toContain('Public page');
    expect(text).not.toContain(SECRET);
    expect(canary.connections).toBe(0);
    expect(site.hits.get('/ok.png')).toBe(1); // the proxy does carry the page's own traffic
    expect(site.hits.get('/hop')).toBe(4); // iframe, img, mapped img and fetch each tried their redirect
    // The hops' targets, the direct http and https images, localhost, the WebSocket and the worker.
    expect(proxy.refusedTotal).toBeGreaterThanOrEqual(4 + 5);
  });

  it('refuses a navigation that redirects to loopback: blocked, no connect', async () => {
    const err = await renderer.render(`${pub}/hop?to=${encodeURIComponent(`http://${secret}/secret`)}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PdfError);
    expect((err as PdfError).outcome).toBe('blocked');
    expect(canary.connections).toBe(0);
  });

  it('refuses a name that resolves public at the check and loopback at the connect (DNS rebinding)', async () => {
    const err = await renderer.render(`http://rebind.test:${canary.port}/secret`).catch((e: unknown) => e);
    expect(lookups.get('rebind.test')).toBeGreaterThanOrEqual(2); // checked, then resolved again at connect
    expect((err as PdfError).outcome).toBe('blocked');
    expect(canary.connections).toBe(0);
  });

  it.each([
    ['no credentials', undefined],
    ["a render's name with the wrong password", 'wrong'],
    ['a closed pass', 'closed'],
    ['a malformed Proxy-Authorization', 'malformed'],
  ])('is closed to anyone without a live render pass (%s): 407', async (_name, how) => {
    const { request } = await import('node:http');
    const url = new URL(await proxy.start());
    const pass = proxy.open();
    if (how === 'closed') pass.close();
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const headers: Record<string, string> =
      how === undefined
        ? {}
        : how === 'malformed'
          ? { 'proxy-authorization': 'Basic ::not base64::' }
          : { 'proxy-authorization': basic(pass.username, how === 'wrong' ? 'x'.repeat(32) : pass.password) };
    const status = await new Promise<number | undefined>((resolve, reject) =>
      request({ host: url.hostname, port: url.port, method: 'GET', path: `${pub}/ok.png`, headers }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on('error', reject)
        .end(),
    );
    pass.close();
    expect(status).toBe(407);
  });
});
