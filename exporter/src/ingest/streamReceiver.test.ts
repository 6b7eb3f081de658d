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

  /** One entry as our emitter writes it: emitter `p`, first number `s`, `h` leading unnumbered lines. */
  const entry = (stream: string, p: string, s: number | string, body: string[], h = 0) =>
    client.xadd(stream, '*', 'n', body.length, 'p', p, 's', s, ...(h ? ['h', h] : []), 'e', body.join('\n'));
  const range = (tag: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${tag}-${from + i}`);

  it('counts a batch resent after a lost answer once: numbered lines below the mark are skipped', async () => {
    const stream = 'resent';
    await entry(stream, 'x', 0, ['hello-1', ...range('x', 0, 5)], 1);
    // The answer to the next XADD died with the connection: the emitter resends from its oldest
    // unacknowledged line, /x-2, behind a fresh hello, with more lines queued since.
    await entry(stream, 'x', 2, ['hello-2', ...range('x', 2, 7)], 1);
    await entry(stream, 'x', 7, range('x', 7, 9));
    await entry(stream, 'y', 0, range('y', 0, 2)); // another emitter: its own numbers
    await client.xadd(stream, '*', 'e', ['z-0', 'z-1'].join('\n')); // another writer: no numbers
    await entry(stream, 'x', '-1', ['bad-0']); // malformed numbers: counted whole
    await entry(stream, 'x', 'a'.repeat(16), ['bad-1']);
    await client.xadd(stream, '*', 'p', 'x'.repeat(65), 's', 0, 'e', 'bad-2');
    const seen: string[] = [];
    const r = receiver(stream, 'c4', seen);
    await r.start();
    await waitFor('every entry read', () => (r.entriesRead >= 8 ? true : undefined));
    await r.close();
    expect(seen).toEqual([
      'hello-1',
      ...range('x', 0, 5),
      'hello-2',
      ...range('x', 5, 9),
      ...range('y', 0, 2),
      'z-0',
      'z-1',
      'bad-0',
      'bad-1',
      'bad-2',
    ]);
    expect(r.duplicates).toBe(3);
    expect((await client.xpending(stream, 'g'))[0]).toBe(0);
  });

  it("counts a dead consumer's claimed entries whole, even below the mark its own pending entries set", async () => {
    const stream = 'claimed-below';
    await client.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    await entry(stream, 'x', 0, range('x', 0, 3));
    await client.xreadgroup('GROUP', 'g', 'dead-pod', 'COUNT', 1, 'STREAMS', stream, '>');
    await entry(stream, 'x', 3, range('x', 3, 6));
    await client.xreadgroup('GROUP', 'g', 'c5', 'COUNT', 1, 'STREAMS', stream, '>'); // c5's earlier life
    await new Promise((res) => setTimeout(res, 100));
    const seen: string[] = [];
    const r = receiver(stream, 'c5', seen);
    await r.start();
    await waitFor('both entries', () => (seen.length >= 6 ? true : undefined));
    expect(seen).toEqual([...range('x', 3, 6), ...range('x', 0, 3)]);
    expect(r.duplicates).toBe(0);
    await entry(stream, 'x', 1, range('x', 1, 7)); // a resend after that is skipped up to the mark
    await waitFor('the resend read', () => (r.entriesRead >= 3 ? true : undefined));
    await r.close();
    expect(seen.slice(6)).toEqual(['x-6']);
    expect(r.duplicates).toBe(5);
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
