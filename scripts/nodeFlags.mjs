// Node flags each service runs with, in one place for npm start, the tests and the benchmarks.
// The exporter allocates a little per event at very high rates; a 2 MiB young generation (instead
// of up to 16 MiB x 3) keeps its RSS flat with no measurable cost to ingest (see bench/).
export const NODE_FLAGS = {
  downloader: ['--enable-source-maps'],
  exporter: ['--enable-source-maps', '--max-semi-space-size=2'],
};
