/**
 * Frees the memory of socket reads (and of the Redis stream's entries, which are the same) once they
 * have been consumed. Every chunk Node reads from a socket is an ArrayBuffer outside V8's heap. V8 collects for external memory only after it has
 * grown 64 MiB since the last collection, and a chunk adds a hundred-odd bytes to the exporter's
 * 1 MiB young generation, so under a flood of input dead chunks pile up to 64 MiB before a
 * collection frees them, and RSS swings with them. A minor collection after every
 * `RECLAIM_EVERY_BYTES` of input frees them at once.
 *
 * Measured with 400 MiB written to one unix socket (server flags as the exporter's), anonymous RSS
 * over the idle process: Node 24 +52 MiB without, +20 every 16 MiB, +9 every 4 MiB; Node 20 +39 /
 * +19 / +10. Under 20 garbage clients (exporter/load/hostileClients.test.ts), Node 24 peaked at
 * 96.7-99.3 MiB every 1 MiB against 98-113 every 8, and at 93.4-96.5 with each read buffer in a
 * mapping of its own (`MALLOC_MMAP_THRESHOLD_`, scripts/nodeFlags.mjs), so what a collection
 * frees goes back to the kernel instead of staying in the malloc arena. A minor collection of the
 * exporter's young generation costs 150-200 us: at a steady 25,000 binary events a second (about
 * 0.5 MiB) that is one every two seconds, and the steady benchmark read the same CPU per event
 * (0.64-0.65 us). It needs `--expose-gc` (scripts/nodeFlags.mjs, the Dockerfile); without it this
 * does nothing.
 */
export const RECLAIM_EVERY_BYTES = 2 ** 20;

const collect = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc;
let readSince = 0;

/** Counts `bytes` read and consumed; runs a minor collection every RECLAIM_EVERY_BYTES. */
export function reclaimReads(bytes: number): void {
  readSince += bytes;
  if (readSince < RECLAIM_EVERY_BYTES) return;
  readSince = 0;
  collect?.({ type: 'minor' });
}
