import { describe, expect, it } from 'vitest';
import { clientKey } from './rateLimit.ts';

describe('clientKey: whose budget a request draws on', () => {
  it.each([
    ['127.0.0.1', 'addr:127.0.0.1'],
    ['::ffff:10.1.2.3', 'addr:10.1.2.3'], // a dual-stack socket's IPv4 client is that IPv4 client
    ['2001:db8:1:2:aaaa::1', 'addr:2001:db8:1:2::/64'],
    ['2001:db8:1:2:bbbb:cccc:dddd:eeee', 'addr:2001:db8:1:2::/64'], // the same /64: the same client
    ['::1', 'addr:0:0:0:0::/64'],
    [undefined, 'addr:unknown'],
    ['not an address', 'addr:unknown'],
  ])('%s -> %s', (address, key) => {
    expect(clientKey(address)).toBe(key);
  });

  it('a key is hashed, never stored as given, and wins over the address', () => {
    const k = clientKey('127.0.0.1', 'secret-key');
    expect(k).toMatch(/^key:[0-9a-f]{32}$/);
    expect(k).not.toContain('secret');
    expect(clientKey('10.0.0.1', 'secret-key')).toBe(k);
  });
});
