/**
 * The PDF browser's only way out: a forward proxy on loopback through which Chromium makes every
 * connection (navigations, each redirect hop, subresources, workers, prefetches, WebSockets). Each
 * connect resolves through the SSRF policy's lookup, so the browser meets the same rule as plain
 * fetches, on the address it actually connects to: a name that answers public first and private
 * later (DNS rebinding) is refused at connect time.
 *
 * The proxying itself is proxy-chain (Apify's, maintained): CONNECT tunnels and plain-HTTP
 * forwarding, with a per-request `dnsLookup` hook. What is ours: the credentials, the literal-address
 * check (a literal address never reaches a lookup) and the record of what each render was refused.
 */
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import type { LookupFunction } from 'node:net';
import { createTokenCheck } from '@dl/shared';
import { type PrepareRequestFunctionOpts, type PrepareRequestFunctionResult, RequestError, Server } from 'proxy-chain';
import { BlockedAddressError, type SsrfPolicy } from '../upstream/ssrfPolicy.ts';

/** The `Server` header of the proxy's own answers (a refusal shown to the browser as a page). */
const PROXY_REALM = 'downloader-pdf-proxy';

/**
 * One render's admission to the proxy: the credentials its browser context presents, and the hosts
 * the proxy refused it. Closed when the render ends; its credentials stop working then.
 */
export interface RenderPass {
  readonly username: string;
  readonly password: string;
  /** Hosts refused, as URL.hostname spells them (IPv6 bracketed); at most 64 are kept. */
  readonly refused: Set<string>;
  close(): void;
}

export class EgressProxy {
  private server: Server | undefined;
  private url: Promise<string> | undefined;
  private readonly passes = new Map<string, { pass: RenderPass; matches: (presented: string) => boolean }>();
  /** Keep-alive sockets for plain-HTTP targets; each was checked when it connected. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  /** Connections refused since start, over all renders (for the stats poll and the tests). */
  refusedTotal = 0;

  constructor(private readonly policy: SsrfPolicy) {}

  /** Listens on an ephemeral loopback port (once) and returns the proxy's URL. */
  start(): Promise<string> {
    this.url ??= (async () => {
      const server = new Server({
        port: 0,
        host: '127.0.0.1',
        authRealm: PROXY_REALM,
        prepareRequestFunction: (o) => this.admit(o),
      });
      await server.listen();
      this.server = server;
      return `http://127.0.0.1:${server.port}`;
    })();
    return this.url;
  }

  /** A pass for one render; unknown or closed credentials get 407 and nothing else. */
  open(): RenderPass {
    const username = randomBytes(8).toString('hex');
    const password = randomBytes(16).toString('hex');
    const pass: RenderPass = { username, password, refused: new Set(), close: () => this.passes.delete(username) };
    this.passes.set(username, { pass, matches: createTokenCheck(password) });
    return pass;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.url = undefined;
    this.agent.destroy();
    await server?.close(true);
  }

  private admit(o: PrepareRequestFunctionOpts): PrepareRequestFunctionResult {
    const admitted = this.passes.get(o.username);
    if (!admitted?.matches(o.password))
      return { requestAuthentication: true, failMsg: 'this proxy serves only the downloader’s own PDF renders' };
    const { pass } = admitted;
    const note = (host: string) => {
      this.refusedTotal++;
      if (pass.refused.size < 64) pass.refused.add(host);
    };
    // A literal address is connected to without any lookup: judge it here. IPv6 arrives bracketed;
    // anything that does not parse is refused.
    const literal = this.policy.check(`http://${o.hostname}/`);
    if ('refused' in literal) {
      note(o.hostname);
      throw new RequestError(literal.refused, 403); // every answer of the proxy's own says Server: PROXY_REALM
    }
    const dnsLookup: LookupFunction = (hostname, options, callback) =>
      this.policy.lookup(hostname, options, (err, ...rest: unknown[]) => {
        if (err instanceof BlockedAddressError) note(hostname);
        (callback as (e: typeof err, ...r: unknown[]) => void)(err, ...rest);
      });
    return { dnsLookup: dnsLookup as PrepareRequestFunctionResult['dnsLookup'], httpAgent: this.agent };
  }
}
