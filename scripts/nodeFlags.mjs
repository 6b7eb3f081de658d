// Node flags each service runs with, in one place for npm start, the tests and the benchmarks.
// The exporter allocates a little per event at very high rates; a 1 MiB semi-space (instead of up
// to 16 MiB) keeps its RSS flat with no measurable cost to ingest (bench --only=ingest: 1.46 M request
// events/s at 1 MiB, 1.41 M at 2; 20 garbage clients: RSS peak 95 MiB at 1, 98-100 at 2). Its old
// generation is capped at 96 MiB: V8 otherwise lets garbage (a client sending nothing else) grow the
// heap far past what is alive, and RSS with it (20 garbage clients: 122 MiB uncapped, 95 capped).
// 64 MiB held memory as well but its major collections stalled ingest up to 93 ms under a scrape
// storm (24-64 ms at 96). The cap holds SERIES_LIMIT up to about 8,000, and the exporter refuses a
// larger limit at start (exporter/src/config.ts). No --enable-source-maps for
// the exporter: the first stack trace Node maps parses the whole map into some 380,000 small arrays,
// 20 MiB held for good (a heap snapshot after 20 garbage clients closed at once showed it). Its
// traces name bundle lines; dist/exporter.mjs.map decodes them offline. --expose-gc lets the
// exporter run a minor collection every 1 MiB read from its socket, freeing the dead read chunks
// that V8 would otherwise let grow to 64 MiB (exporter/src/ingest/readReclaim.ts).
export const NODE_FLAGS = {
  downloader: ['--enable-source-maps'],
  exporter: ['--expose-gc', '--max-semi-space-size=1', '--max-old-space-size=96'],
};

// Environment each service runs with, beside its flags. glibc gives every thread that mallocs an
// arena of its own; V8's background GC threads each grew one under garbage input. Two arenas (20
// garbage clients, measured when the exporter still had an HTTP thread): Node 20 RSS peak 87 MiB
// (95 with the default), Node 24 122 MiB (136-150). A 64 KiB mmap threshold gives each socket read
// buffer (64 KiB) a mapping of its own, returned to the kernel when the read is collected; from
// the main arena, the dead ones waiting for a collection grew it by about 10 MiB that it never gave
// back (Node 24, 20 garbage clients: peak 93.4-96.5 MiB with it and a collection every 1 MiB read,
// 96.7-99.3 without it; exporter/src/ingest/readReclaim.ts). The images set the same (Dockerfile ENV).
export const SERVICE_ENV = {
  downloader: {},
  exporter: { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '65536' },
};
