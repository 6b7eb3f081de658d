export const NODE_FLAGS: { downloader: string[]; exporter: string[] };
export const SERVICE_ENV: { downloader: Record<string, string>; exporter: Record<string, string> };
