import net from 'node:net';

/**
 * A TCP proxy in front of a real server that can lose one answer: once armed, the first client
 * write containing `marker` reaches the server, and the server's answer to it is swallowed while the
 * connection is cut, as when a server stores a command and dies (or the network does) before its
 * reply arrives. The client cannot tell a lost write from a lost answer; the server has the command.
 */
export class AnswerLosingProxy {
  private server: net.Server | undefined;
  private armed: string | undefined;
  private readonly sockets = new Set<net.Socket>();
  /** Connections cut after their command reached the server. */
  cuts = 0;
  port = 0;

  constructor(
    private readonly target: { host?: string; port: number },
    readonly host = '127.0.0.1',
  ) {}

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = net.createServer((client) => this.pipe(client));
    await new Promise<void>((resolve) => this.server?.listen(0, this.host, resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /**
   * The next client write holding `marker` (any case) reaches the server; its answer, and any later
   * one on that connection, does not reach the client.
   */
  loseAnswerTo(marker: string): void {
    this.armed = marker.toLowerCase();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host ?? '127.0.0.1');
    this.sockets.add(client).add(upstream);
    let cutting = false;
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      if (cutting) return;
      if (this.armed && chunk.toString('latin1').toLowerCase().includes(this.armed)) {
        this.armed = undefined;
        cutting = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cutting) {
        client.write(chunk);
        return;
      }
      // The server answered (so it has the command): the answer dies with the connection.
      this.cuts++;
      close();
    });
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  }
}
