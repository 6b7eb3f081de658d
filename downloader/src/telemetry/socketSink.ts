import net from 'node:net';
import { type EventSink, type SinkEvents, untrustedSocketDir } from '@dl/shared';

export interface SocketSinkOptions {
  path: string;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  log?: (message: string) => void;
}

/**
 * Unix stream socket client. The exporter writes back, as decimal lines, the cumulative number of
 * events it has consumed on this connection; this sink turns those into `onAck(delta)` calls.
 * Reconnects with capped exponential backoff and logs only state changes, never each retry.
 */
export class SocketSink implements EventSink {
  private socket: net.Socket | undefined;
  private connected = false;
  private closed = false;
  private backoff: number;
  private timer: NodeJS.Timeout | undefined;
  private acked = 0;
  private ackTail = '';
  private reportedDown = false;
  /** Why the socket's directory was last refused (logged when it changes). */
  private refusedDir: string | undefined;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private readonly log: (message: string) => void;

  constructor(
    private readonly options: SocketSinkOptions,
    private readonly events: SinkEvents,
  ) {
    this.minBackoff = options.minBackoffMs ?? 50;
    this.maxBackoff = options.maxBackoffMs ?? 2_000;
    this.backoff = this.minBackoff;
    this.log = options.log ?? ((m) => console.error(m));
  }

  get ready(): boolean {
    return this.connected;
  }

  start(): void {
    this.connect();
  }

  send(bytes: Buffer): boolean {
    if (!this.socket || !this.connected) return false;
    return this.socket.write(bytes);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 500).unref();
    });
  }

  private connect(): void {
    if (this.closed) return;
    // Whoever can write the socket's directory could have bound the socket: refuse to hand events
    // to it, and look again later (the directory may be fixed or created by the exporter).
    const untrusted = untrustedSocketDir(this.options.path);
    if (untrusted) {
      if (this.refusedDir !== untrusted) this.log(`telemetry: not connecting to ${this.options.path}: ${untrusted}`);
      this.refusedDir = untrusted;
      this.retryLater();
      return;
    }
    this.refusedDir = undefined;
    const socket = net.createConnection(this.options.path);
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      this.connected = true;
      this.backoff = this.minBackoff;
      this.acked = 0;
      this.ackTail = '';
      if (this.reportedDown) this.log(`telemetry: connected to exporter at ${this.options.path}`);
      this.reportedDown = false;
      this.events.onConnect();
    });
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('drain', () => this.events.onDrain());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.reportedDown) {
        this.log(
          `telemetry: exporter unreachable at ${this.options.path} (${err.code ?? err.message}); buffering and retrying quietly`,
        );
        this.reportedDown = true;
      }
    });
    socket.on('close', () => {
      const wasConnected = this.connected;
      this.connected = false;
      if (this.socket === socket) this.socket = undefined;
      if (wasConnected) this.events.onDisconnect();
      this.retryLater();
    });
  }

  private retryLater(): void {
    if (this.closed) return;
    const delay = this.backoff * (0.5 + Math.random() / 2);
    this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
    this.timer = setTimeout(() => this.connect(), delay);
    this.timer.unref();
  }

  private onData(chunk: string): void {
    const text = this.ackTail + chunk;
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline < 0) {
      this.ackTail = text.slice(-32);
      return;
    }
    this.ackTail = text.slice(lastNewline + 1);
    const prev = text.lastIndexOf('\n', lastNewline - 1);
    const total = Number(text.slice(prev + 1, lastNewline));
    if (!Number.isSafeInteger(total) || total <= this.acked) return;
    const delta = total - this.acked;
    this.acked = total;
    this.events.onAck(delta);
  }
}
