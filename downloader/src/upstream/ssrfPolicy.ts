import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { isBlockedAddress } from './addresses.ts';

/** Raised when a host resolves to an address the downloader must not reach. */
export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKED';
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(`${host} resolves to ${address}, which is not a public address`);
  }
}

export interface SsrfPolicyOptions {
  /** DOWNLOADER_ALLOW_PRIVATE: every address is allowed (local testing only). */
  allowPrivate: boolean;
  /** Exact addresses exempt from the refusal (an internal origin you trust). */
  allowAddresses?: readonly string[];
  /** Every address a host name resolves to; the system resolver unless a test maps names itself. */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
}

const systemResolve = (hostname: string) => dnsLookup(hostname, { all: true });

/**
 * The one SSRF rule of the downloader, for every way it reaches out (fetches, webhooks, the PDF
 * browser's requests): http(s) only, and never a non-public address (addresses.ts), whether the URL
 * names it literally or a host name resolves to it.
 */
export class SsrfPolicy {
  private readonly allowAddresses: readonly string[];
  private readonly resolve: (hostname: string) => Promise<LookupAddress[]>;

  constructor(private readonly options: SsrfPolicyOptions) {
    this.allowAddresses = options.allowAddresses ?? [];
    this.resolve = options.resolve ?? systemResolve;
  }

  addressAllowed(ip: string): boolean {
    return this.options.allowPrivate || this.allowAddresses.includes(ip) || !isBlockedAddress(ip);
  }

  /**
   * What can be judged before any DNS: the URL parses, its scheme is http(s), and a literal address
   * (which never reaches the resolver) is allowed. Returns the URL, or why it is refused.
   */
  check(raw: string): { url: URL } | { refused: string } {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { refused: `not a URL: ${raw.slice(0, 200)}` };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { refused: `scheme ${url.protocol} is not allowed` };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !this.addressAllowed(host)) return { refused: `${host} is not a public address` };
    return { url };
  }

  /**
   * A `lookup` for net/tls connect: resolves, refuses if any address is blocked, and hands the socket
   * the very addresses it checked, so nothing can rebind between the check and the connect.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const family = (options as { family?: number | string }).family;
    const wanted = family === 4 || family === 'IPv4' ? 4 : family === 6 || family === 'IPv6' ? 6 : 0;
    this.resolve(hostname).then(
      (all) => {
        const addresses = wanted ? all.filter((a) => a.family === wanted) : all;
        const bad = all.find((a) => !this.addressAllowed(a.address)); // one bad answer refuses the name
        if (bad) return callback(new BlockedAddressError(hostname, bad.address) as unknown as NodeJS.ErrnoException, '', 4);
        const first = addresses[0];
        if (!first)
          return callback(Object.assign(new Error(`${hostname} has no IPv${wanted} address`), { code: 'ENOTFOUND' }), '', 4);
        if ((options as { all?: boolean }).all)
          return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 4),
    );
  };

  /**
   * For clients that resolve on their own (the PDF browser): the URL passes `check` and every address
   * its host resolves to now is allowed. `data:`, `blob:` and `about:` carry no network request.
   */
  async allows(raw: string): Promise<boolean> {
    if (/^(data|blob|about):/i.test(raw)) return true;
    const checked = this.check(raw);
    if ('refused' in checked) return false;
    if (this.options.allowPrivate) return true;
    const host = checked.url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) return true; // judged by check()
    try {
      const addresses = await this.resolve(host);
      return addresses.every((a) => this.addressAllowed(a.address));
    } catch {
      return false;
    }
  }
}
