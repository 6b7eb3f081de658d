import { describe, expect, it } from 'vitest';
import { createErrorLog } from './errorLog.ts';

describe('createErrorLog', () => {
  it('logs the first of a kind with its stack, counts the repeats, and reports them when the interval is over', () => {
    const lines: string[] = [];
    let t = 0;
    const log = createErrorLog(
      (m) => lines.push(m),
      60_000,
      () => t,
    );
    for (let i = 0; i < 1000; i++) log(new TypeError('boom\nsecond line'));
    log(new RangeError('other'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('TypeError: boom');
    t = 61_000;
    log(new TypeError('boom'));
    expect(lines.slice(2)).toEqual([
      'downloader: 999 more of "TypeError: boom" in the last 61 s',
      expect.stringContaining('downloader: unhandled error TypeError: boom'),
    ]);
  });
});
