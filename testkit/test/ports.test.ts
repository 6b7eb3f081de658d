import { describe, expect, it } from 'vitest';
import { freePort, testPortSpan } from '../src/processes.ts';

describe('the ports test services take', () => {
  it.each([
    ['32768\t60999\n', { first: 10_000, size: 22_768 }],
    ['49152 65535', { first: 10_000, size: 39_152 }],
    ['10500 50000', { first: 50_001, size: 15_535 }],
  ])('lie outside the ephemeral range %j', (range, span) => expect(testPortSpan(range)).toEqual(span));

  it('refuse a range that leaves no room on either side, naming the setting', () => {
    expect(() => testPortSpan('1024 65535')).toThrow(
      'net.ipv4.ip_local_port_range is 1024 65535: tests need 1024 ports outside it, from 10000 up or up to 65535',
    );
    expect(() => testPortSpan('10800 65000')).toThrow(/tests need 1024 ports outside it/);
    expect(() => testPortSpan('32768')).toThrow('net.ipv4.ip_local_port_range reads "32768", not two port numbers');
    expect(() => testPortSpan('low high')).toThrow(/not two port numbers/);
  });

  it("are free, outside this machine's ephemeral range, and never handed out twice", async () => {
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
    expect(new Set(ports).size).toBe(50);
    const { readFileSync } = await import('node:fs');
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    for (const port of ports) expect(port < (low as number) || port > (high as number)).toBe(true);
  });
});
