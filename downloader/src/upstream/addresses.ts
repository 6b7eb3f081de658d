import ipaddr from 'ipaddr.js';

/**
 * Where the downloader must never connect on a caller's behalf: every address that is not global
 * unicast. The ranges come from ipaddr.js `range()` (a maintained table of the IANA special-purpose
 * registries: loopback, private, link-local and cloud metadata, CGNAT, multicast, unspecified,
 * documentation, benchmarking, reserved, discard-only, ORCHID, AS112...). IPv6 forms that carry an
 * IPv4 address (mapped, compatible, translated, NAT64, 6to4, Teredo) are unwrapped and judged as the
 * IPv4 address they reach.
 */

/** The IPv4 address an IPv6 address carries, if it is one of the forms that carry one. */
function embeddedIPv4(a: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = a.parts;
  const at = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  const last32 = () => at(p[6] as number, p[7] as number);
  switch (a.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d (IPv4-translated)
    case 'rfc6052': // 64:ff9b::a.b.c.d (NAT64)
      return last32();
    case '6to4': // 2002:aabb:ccdd::/48
      return at(p[1] as number, p[2] as number);
    case 'teredo': // 2001::/32: the client's address, every bit inverted, in the last 32 bits
      return at(~(p[6] as number) & 0xffff, ~(p[7] as number) & 0xffff);
  }
  // IPv4-compatible (::a.b.c.d, deprecated): 96 zero bits, then an address other than :: and ::1.
  if (p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || (p[7] as number) > 1)) return last32();
  return undefined;
}

/** True when `ip` (a literal address, brackets allowed) is one the downloader refuses to reach. */
export function isBlockedAddress(ip: string): boolean {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (!ipaddr.isValid(bare)) return true; // not an address at all: refuse rather than guess
  const addr = ipaddr.parse(bare);
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6;
    // Local-use NAT64 (64:ff9b:1::/48, RFC 8215) never leaves its network.
    if (v6.parts[0] === 0x64 && v6.parts[1] === 0xff9b && v6.parts[2] === 1) return true;
    const v4 = embeddedIPv4(v6);
    if (v4) return v4.range() !== 'unicast';
  }
  return addr.range() !== 'unicast';
}
