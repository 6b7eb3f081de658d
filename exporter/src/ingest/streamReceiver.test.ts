import { RedisServer, requireBinary, waitFor } from '@dl/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamReceiver } from './streamReceiver.ts';

const hasRedis = requireBinary('redis-server');

describe.skipIf(!hasRedis)('StreamReceiver recovery paths (real Redis)', () => {
  const redis = new RedisServer();
  let client: Redis;
  beforeAll(async () => {
    await redis.start();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis.stop();
  });

  const lines = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${i}`).join('\n');

  function receiver(stream: string, consumer: string, seen: string[]) {
    return new StreamReceiver({
      url: redis.url,
      stream,
      group: 'g',
      consumer,
      claimIdleMs: 50,
      blockMs: 100,
      onLine: (b, s, e) => seen.push(b.toString('latin1', s, e)),
      log: () => {},
    });
  }

  it('re-reads its own pending entries after a crash, counts each once, and acknowledges them', async () => {
    const stream = 'own-pending';
    await client.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    await client.xadd(stream, '*', 'e', lines('a', 3));
    await client.xadd(stream, '*', 'e', lines('b', 2));
    // A previous life of consumer c1 read both entries and died before XACK.
    await client.xreadgroup('GROUP', 'g', 'c1', 'STREAMS', stream, '>');
    expect((await client.xpending(stream, 'g'))[0]).toBe(2);
    const seen: string[] = [];
    const r = receiver(stream, 'c1', seen);
    await r.start();
    await client.xadd(stream, '*', 'e', lines('c', 1));
    await waitFor('all six lines', () => (seen.length >= 6 ? true : undefined));
    await new Promise((res) => setTimeout(res, 250));
    await r.close();
    expect(seen.sort()).toEqual(['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'c-0']);
    expect((await client.xpending(stream, 'g'))[0]).toBe(0);
  });

  it("claims a dead consumer's stale entries", async () => {
    const stream = 'stale';
    await client.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    await client.xadd(stream, '*', 'e', lines('d', 4));
    await client.xreadgroup('GROUP', 'g', 'dead-pod', 'STREAMS', stream, '>');
    await new Promise((res) => setTimeout(res, 100)); // idle longer than claimIdleMs
    const seen: string[] = [];
    const r = receiver(stream, 'c2', seen);
    await r.start();
    await waitFor('claimed lines', () => (seen.length >= 4 ? true : undefined));
    await r.close();
    expect(seen.sort()).toEqual(['d-0', 'd-1', 'd-2', 'd-3']);
    expect((await client.xpending(stream, 'g'))[0]).toBe(0);
  });

  it('creates its group on an empty server and reads entries stored before the group existed', async () => {
    const stream = 'before-group';
    await client.xadd(stream, '*', 'e', lines('early', 2));
    const seen: string[] = [];
    const r = receiver(stream, 'c3', seen);
    await r.start();
    await waitFor('early lines', () => (seen.length >= 2 ? true : undefined));
    await r.close();
    expect(seen).toEqual(['early-0', 'early-1']);
  });
});
