export const NODE_FLAGS: { downloader: string[]; exporter: string[] };
