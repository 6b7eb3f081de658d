/**
 * Frees the memory of socket reads once they have been consumed. Every chunk Node reads from a
 * socket is an ArrayBuffer outside V8's heap. V8 collects for external memory only after it has
 * grown 64 MiB since the last collection, and a chunk adds a hundred-odd bytes to the exporter's
 * 1 MiB young generation, so under a flood of input dead chunks pile up to 64 MiB before a
 * collection frees them, and RSS swings with them. A minor collection after every
 * `RECLAIM_EVERY_BYTES` of input frees them at once.
 *
 * Measured with 400 MiB written to one unix socket (server flags as the exporter's), anonymous RSS
 * over the idle process: Node 24 +52 MiB without, +20 every 16 MiB, +9 every 4 MiB; Node 20 +39 /
 * +19 / +10; CPU for the reads fell (fewer, smaller collections). A minor collection of the
 * exporter's young generation costs 150-200 us, so 8 MiB of binary events (~350,000) pay 0.0006 us
 * each. It needs `--expose-gc` (scripts/nodeFlags.mjs, the Dockerfile); without it this does nothing.
 */
export const RECLAIM_EVERY_BYTES = 8 * 2 ** 20;

const collect = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc;
let readSince = 0;

/** Counts `bytes` read from a socket and consumed; runs a minor collection every RECLAIM_EVERY_BYTES. */
export function reclaimReads(bytes: number): void {
  readSince += bytes;
  if (readSince < RECLAIM_EVERY_BYTES) return;
  readSince = 0;
  collect?.({ type: 'minor' });
}
