import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
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

/**
 * A `lookup` for net/tls connect: resolves, refuses if any address is blocked, and hands the socket
 * the very addresses it checked, so nothing can rebind between the check and the connect.
 */
export function safeLookup(allowPrivate: boolean, allowAddresses: readonly string[] = []): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...(options as object), all: true } as LookupAllOptions, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 4);
      const bad = allowPrivate
        ? undefined
        : addresses.find((a) => isBlockedAddress(a.address) && !allowAddresses.includes(a.address));
      if (bad) return callback(new BlockedAddressError(hostname, bad.address) as unknown as NodeJS.ErrnoException, '', 4);
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}
