import { describe, expect, it } from 'vitest';
import { LineFramer } from './lineFramer.ts';

function frame(chunks: (string | Buffer)[], max = 16) {
  const lines: string[] = [];
  let tooLong = 0;
  const f = new LineFramer(
    max,
    (b, s, e) => lines.push(b.toString('latin1', s, e)),
    () => tooLong++,
  );
  let completed = 0;
  for (const c of chunks) completed += f.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  return { lines, tooLong, completed, pending: f.pending };
}

describe('LineFramer', () => {
  it.each([
    ['one chunk, many lines', ['a\nbb\nccc\n'], ['a', 'bb', 'ccc'], 0, 0],
    ['a line split across many writes', ['ab', 'cd', 'e', 'f\ng', 'h\n'], ['abcdef', 'gh'], 0, 0],
    ['byte by byte', 'xyz\n'.split(''), ['xyz'], 0, 0],
    ['unfinished tail stays pending', ['a\nbcd'], ['a'], 0, 3],
    ['empty lines are lines', ['\n\n'], ['', ''], 0, 0],
    ['exactly max is kept', [`${'x'.repeat(16)}\n`], ['x'.repeat(16)], 0, 0],
    ['max + 1 in one chunk is too long', [`${'x'.repeat(17)}\nok\n`], ['ok'], 1, 0],
    ['too long across chunks, then valid', ['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(10), '\nok\n'], ['ok'], 1, 0],
    ['two too-long lines', [`${'y'.repeat(40)}\n${'z'.repeat(40)}\nok\n`], ['ok'], 2, 0],
  ])('%s', (_name, chunks, lines, tooLong, pending) => {
    const r = frame(chunks as string[]);
    expect(r.lines).toEqual(lines);
    expect(r.tooLong).toBe(tooLong);
    expect(r.completed).toBe((lines as string[]).length + (tooLong as number));
    expect(r.pending).toBe(pending);
  });

  it('never holds more than the limit while discarding a huge line', () => {
    const f = new LineFramer(
      8192,
      () => {},
      () => {},
    );
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 16; i++) {
      f.push(chunk);
      expect(f.pending).toBeLessThanOrEqual(8192);
    }
  });
});
