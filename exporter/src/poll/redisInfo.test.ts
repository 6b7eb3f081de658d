import { describe, expect, it } from 'vitest';
import { parseRedisInfo } from './redisInfo.ts';

const INFO = [
  '# Server',
  'redis_version:7.0.15',
  'redis_mode:standalone',
  '',
  '# Clients',
  'connected_clients:3',
  'blocked_clients:0',
  '',
  '# Memory',
  'used_memory:1048576',
  'used_memory_human:1.00M',
  '',
  '# Stats',
  'total_commands_processed:12345',
  'keyspace_hits:40',
  'keyspace_misses:2',
  '',
  '# Keyspace',
  'db0:keys=5,expires=1,avg_ttl=0',
].join('\r\n');

describe('parseRedisInfo', () => {
  it('reads the exported figures from real INFO text (CRLF)', () => {
    const info = parseRedisInfo(INFO);
    expect(info).toMatchObject({
      connected_clients: 3,
      used_memory_bytes: 1_048_576,
      commands_processed_total: 12_345,
      keyspace_hits_total: 40,
      keyspace_misses_total: 2,
      version: '7.0.15',
    });
    expect(info.sections.keyspace?.db0).toBe('keys=5,expires=1,avg_ttl=0');
  });

  it.each([
    ['empty text', ''],
    ['garbage', 'not info at all\n:::\n#\n'],
    ['non-numeric values', 'connected_clients:many\nused_memory:\nkeyspace_hits:NaN'],
    ['truncated', '# Clients\nconnected_cli'],
  ])('yields undefined figures, never throws, on %s', (_name, text) => {
    const info = parseRedisInfo(text);
    expect(info.connected_clients).toBeUndefined();
    expect(info.used_memory_bytes).toBeUndefined();
    expect(info.keyspace_hits_total).toBeUndefined();
  });

  it('keeps LF-only text and colons inside values', () => {
    const info = parseRedisInfo('# Server\nexecutable:/usr/bin/redis-server\nconfig_file:C:\\redis.conf\nconnected_clients:1');
    expect(info.sections.server?.config_file).toBe('C:\\redis.conf');
    expect(info.connected_clients).toBe(1);
  });
});
