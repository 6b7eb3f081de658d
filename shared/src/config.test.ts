import { describe, expect, it } from 'vitest';
import { ConfigError, env, loadConfig } from './config.ts';

const spec = {
  PORT: env.port(8000),
  EVENTS_TRANSPORT: env.oneOf(['socket', 'redis', 'off'] as const, 'socket'),
  POLL_INTERVAL_S: env.seconds(5, 0.1, 3600),
  MODE: env.fileMode(0o600),
  FLAG: env.flag(),
  REDIS_URL: env.optionalUrl(['redis', 'rediss']),
  RATE: env.rate('60/minute'),
};

describe('loadConfig', () => {
  it('applies defaults for unset and empty variables', () => {
    expect(loadConfig(spec, { PORT: '' })).toEqual({
      PORT: 8000,
      EVENTS_TRANSPORT: 'socket',
      POLL_INTERVAL_S: 5,
      MODE: 0o600,
      FLAG: false,
      REDIS_URL: undefined,
      RATE: { points: 60, seconds: 60, text: '60/minute' },
    });
  });

  it('parses given values', () => {
    const c = loadConfig(spec, {
      PORT: '9000',
      EVENTS_TRANSPORT: 'off',
      POLL_INTERVAL_S: '0.5',
      MODE: '0660',
      FLAG: '1',
      REDIS_URL: 'redis://127.0.0.1:6380',
    });
    expect(c).toMatchObject({ PORT: 9000, EVENTS_TRANSPORT: 'off', POLL_INTERVAL_S: 0.5, MODE: 0o660, FLAG: true });
  });

  it.each([
    ['60/minute', 60, 60],
    ['10 per second', 10, 1],
    [' 1000/hours ', 1000, 3600],
    ['5/Day', 5, 86_400],
  ])('reads the rate %s as the original service writes it', (text, points, seconds) => {
    expect(loadConfig(spec, { RATE: text }).RATE).toEqual({ points, seconds, text: text.trim() });
  });

  it.each([
    ['PORT', 'abc', 'PORT="abc": expected a TCP port between 1 and 65535'],
    ['PORT', '70000', 'PORT="70000": expected a TCP port between 1 and 65535'],
    ['PORT', '80.5', 'PORT="80.5": expected a TCP port'],
    ['EVENTS_TRANSPORT', 'udp', 'EVENTS_TRANSPORT="udp": expected one of socket, redis, off'],
    ['POLL_INTERVAL_S', '-1', 'POLL_INTERVAL_S="-1": expected a number of seconds'],
    ['MODE', '999', 'MODE="999": expected an octal file mode'],
    ['FLAG', 'yes', 'FLAG="yes": expected 1 or 0'],
    ['REDIS_URL', 'http://x', 'REDIS_URL="http://x": expected a URL (redis, rediss)'],
    ['RATE', '60', 'RATE="60": expected a rate such as 60/minute'],
    ['RATE', '0/minute', 'RATE="0/minute": expected a rate'],
    ['RATE', '60/fortnight', 'RATE="60/fortnight": expected a rate'],
    ['RATE', '1e3/second', 'RATE="1e3/second": expected a rate'],
  ])('rejects %s=%s with one line naming it', (name, value, message) => {
    const run = () => loadConfig(spec, { [name]: value });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
    }
  });
});
