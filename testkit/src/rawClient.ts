import net from 'node:net';
import { waitFor } from './processes.ts';

/** A bare socket client that writes whatever it is told and reads the exporter's acknowledgements. */
export class RawEventClient {
  acked = 0;
  /** Called as each acknowledgement is read, with the count and the time it was read (performance.now()). */
  onAck: ((acked: number, at: number) => void) | undefined;
  private tail = '';
  /** Resolves when the connection is closed, by either side. */
  readonly closed: Promise<void>;

  private constructor(private readonly socket: net.Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      const text = this.tail + chunk;
      const lines = text.split('\n');
      this.tail = lines.pop() ?? '';
      const last = lines.at(-1);
      if (last === undefined) return;
      this.acked = Number(last);
      this.onAck?.(this.acked, performance.now());
    });
  }

  static connect(path: string): Promise<RawEventClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(path);
      socket.once('connect', () => resolve(new RawEventClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Writes and waits for the kernel to take the bytes (backpressure respected). */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  waitAcked(lines: number, timeoutMs = 20_000): Promise<number> {
    return waitFor(`ack of ${lines} lines (have ${this.acked})`, () => (this.acked >= lines ? this.acked : undefined), timeoutMs);
  }

  /** Ends the connection, after writing `last` when given (a client that writes and closes at once). */
  close(last?: string | Buffer): void {
    if (last === undefined) this.socket.end();
    else this.socket.end(last);
  }
}
