import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A scripted origin web server on loopback for download tests: path -> handler, hits counted. */
export class Origin {
  private server: Server | undefined;
  readonly routes = new Map<string, Handler>();
  readonly hits = new Map<string, number>();
  /** TCP connections accepted, whatever they then sent (a WebSocket or a bare connect counts too). */
  connections = 0;
  port = 0;

  /** `host`: the loopback address to listen on (127.0.0.2 and so on are loopback too on Linux). */
  constructor(readonly host = '127.0.0.1') {}

  get base(): string {
    return `http://${this.host}:${this.port}`;
  }

  route(path: string, handler: Handler): this {
    this.routes.set(path, handler);
    return this;
  }

  /** Serves `body` with `type` at `path`. */
  static(path: string, type: string, body: string | Buffer, status = 200): this {
    return this.route(path, (_req, res) => res.writeHead(status, { 'content-type': type }).end(body));
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] as string;
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      const h = this.routes.get(path);
      if (h) h(req, res);
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
    });
    this.server.on('connection', () => this.connections++);
    await new Promise<void>((r) => this.server?.listen(0, this.host, r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

export const ARTICLE_HTML = `<!doctype html><html><head><title>Field notes</title></head><body>
<nav><a href="/">Home</a> | <a href="/about">About us</a> | <a href="/shop">Shop</a></nav>
<header><p>Site banner and cookie notice</p></header>
<article>
<h1>Field notes</h1>
<p>The migrating cranes arrived at the northern marsh on the first cold morning of October, ${'circling twice above the reeds before they settled in the shallow water. '.repeat(4)}</p>
<h2>Counting</h2>
<p>We counted <strong>412 birds</strong> by noon, ${'more than in any of the previous nine years of the survey. '.repeat(3)}</p>
<ul><li>Adults: 371</li><li>Juveniles: 41</li></ul>
</article>
<footer><p>Copyright 2026 Marsh Society. All rights reserved.</p></footer>
</body></html>`;
