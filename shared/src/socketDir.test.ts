import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSocketPath, preparePrivateSocketDir, untrustedSocketDir } from './socketDir.ts';

const root = mkdtempSync(join(tmpdir(), 'socketdir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dir = (name: string, mode = 0o700) => {
  const d = join(root, name);
  mkdirSync(d, { mode });
  chmodSync(d, mode);
  return d;
};

describe('the event socket lives in a directory only its user can enter', () => {
  it('defaults to $XDG_RUNTIME_DIR/downloader, else a per-uid directory in the temp dir', () => {
    expect(defaultSocketPath({ XDG_RUNTIME_DIR: '/run/user/1000' })).toBe('/run/user/1000/downloader/events.sock');
    expect(defaultSocketPath({})).toBe(join(tmpdir(), `downloader-${process.getuid?.()}`, 'events.sock'));
    expect(defaultSocketPath({ XDG_RUNTIME_DIR: 'relative/dir' })).toBe(defaultSocketPath({})); // not absolute: ignored
  });

  it('trusts a 700 directory of its own, and a directory not there yet (the exporter will make it)', () => {
    expect(untrustedSocketDir(join(dir('own'), 'events.sock'))).toBeUndefined();
    expect(untrustedSocketDir(join(root, 'missing', 'events.sock'))).toBeUndefined();
  });

  it.each([
    [0o755, 'is open to others (mode 755; it must be 700)'],
    [0o770, 'is open to others (mode 770; it must be 700)'],
    [0o1777, 'is open to others (mode 777; it must be 700)'],
    [0o701, 'is open to others (mode 701; it must be 700)'],
  ])('refuses a directory with mode %o', (mode, why) => {
    const d = dir(`mode-${mode.toString(8)}`, mode);
    expect(untrustedSocketDir(join(d, 'events.sock'))).toBe(`${d} ${why}`);
  });

  it('refuses a link to a directory, and a file, in place of the directory', () => {
    const target = dir('target');
    const link = join(root, 'link');
    symlinkSync(target, link);
    expect(untrustedSocketDir(join(link, 'events.sock'))).toBe(`${link} is not a directory`);
    const file = join(root, 'file');
    writeFileSync(file, '');
    expect(untrustedSocketDir(join(file, 'events.sock'))).toBe(`${file} is not a directory`);
  });

  it.skipIf(process.getuid?.() !== 0)("refuses another user's directory, however closed (needs root to chown)", () => {
    const d = dir('theirs');
    chownSync(d, 65534, 65534);
    expect(untrustedSocketDir(join(d, 'events.sock'))).toBe(`${d} belongs to uid 65534, not to this process's uid 0`);
    expect(() => preparePrivateSocketDir(join(d, 'events.sock'))).toThrow(`EVENTS_SOCKET: ${d} belongs to uid 65534`);
  });

  it('creates a missing directory with mode 700, and refuses to use an open one', () => {
    const path = join(root, 'fresh', 'events.sock');
    preparePrivateSocketDir(path);
    expect(statSync(join(root, 'fresh')).mode & 0o777).toBe(0o700);
    const open = dir('open', 0o777);
    expect(() => preparePrivateSocketDir(join(open, 'events.sock'))).toThrow(`EVENTS_SOCKET: ${open} is open to others`);
  });
});
