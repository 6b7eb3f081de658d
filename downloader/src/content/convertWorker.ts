// The conversion worker: turns one page's HTML into text or Markdown per message, off the main
// thread (downloader/src/content/convertPool.ts). A failure (a page nested past the stack) is sent
// back as an error; a page that takes too long is the pool's to stop.
import { parentPort } from 'node:worker_threads';
import { htmlToMarkdown, htmlToText } from './convert.ts';

export interface ConvertRequest {
  id: number;
  html: string;
  url: string;
  format: 'text' | 'markdown';
}

export type ConvertReply = { id: number; out: string } | { id: number; error: string };

parentPort?.on('message', ({ id, html, url, format }: ConvertRequest) => {
  let reply: ConvertReply;
  try {
    reply = { id, out: format === 'text' ? htmlToText(html, url) : htmlToMarkdown(html, url) };
  } catch (err) {
    reply = { id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply);
});
