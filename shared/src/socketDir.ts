import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Where the event socket lives unless EVENTS_SOCKET says otherwise: a directory only this user can
 * enter, `$XDG_RUNTIME_DIR/downloader/` (already private to the user), else
 * `<temp dir>/downloader-<uid>/`. A socket in a shared directory (/tmp itself) can be bound first by
 * another local user, who would then receive every event.
 */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.XDG_RUNTIME_DIR;
  const dir = runtime?.startsWith('/') ? join(runtime, 'downloader') : join(tmpdir(), `downloader-${process.getuid?.() ?? 0}`);
  return join(dir, 'events.sock');
}

export const DEFAULT_SOCKET_PATH_DOC = '`$XDG_RUNTIME_DIR/downloader/events.sock`, else `<tmp>/downloader-<uid>/events.sock`';

/**
 * Why the directory holding the socket at `path` cannot be trusted, or undefined when it can: it
 * must be a real directory (not a link), owned by this process's user, and closed to everyone else
 * (no group or other permission bits), as ssh-agent requires of its socket's directory.
 */
export function untrustedSocketDir(path: string): string | undefined {
  const dir = dirname(path);
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined; // nothing there yet: no exporter has started, nothing to trust
    return `${dir} cannot be read (${code ?? String(err)})`;
  }
  if (!st.isDirectory()) return `${dir} is not a directory`;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return `${dir} belongs to uid ${st.uid}, not to this process's uid ${uid}`;
  if (st.mode & 0o077) return `${dir} is open to others (mode ${(st.mode & 0o777).toString(8)}; it must be 700)`;
  return undefined;
}

/**
 * For the side that listens: creates the socket's directory (mode 700) if it is missing, then
 * insists that it is trusted. Throws with the reason otherwise.
 */
export function preparePrivateSocketDir(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const why = untrustedSocketDir(path);
  if (why) throw new Error(`EVENTS_SOCKET: ${why}`);
}
