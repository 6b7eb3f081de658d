import { chmod, lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import {
  BINARY_ENCODING,
  type BinaryFrameReader,
  decodeBytes,
  type EventSource,
  MAX_LINE_BYTES,
  preparePrivateSocketDir,
} from '@dl/shared';
import { LineFramer } from './lineFramer.ts';
import { reclaimReads } from './readReclaim.ts';

export interface SocketReceiverOptions {
  path: string;
  mode: number;
  /** Aggregates one line synchronously. */
  onLine: (bytes: Buffer, start: number, end: number) => void;
  /** A reader for a connection whose hello announced binary frames, feeding the same pipeline. */
  binaryReader: () => BinaryFrameReader;
  /** Runs the reading of one chunk (the pipeline reads the clock once per chunk). */
  chunk?: <T>(read: () => T) => T;
  onTooLong: () => void;
  /** A connection ended in the middle of a line. */
  onTruncated: () => void;
  /** Lines rejected so far, all reasons (to tell a chunk of garbage from a chunk of events). */
  rejected: () => number;
  /** Acknowledgements are written at most this long after the lines they cover were consumed. */
  ackDelayMs?: number;
  /** Per connection, bytes of rejected input a second before its reading pauses until the second ends. */
  garbageBytesPerSecond: number;
}

/** Past this many unread bytes of acknowledgements the client is not reading them: stop writing. */
const ACK_BACKLOG_LIMIT = 64 * 1024;
/** An emitter needs one connection; more than this many at once is refused at accept. */
export const MAX_CONNECTIONS = 128;

/**
 * Listens on a unix stream socket for events from any number of clients: NDJSON lines, or binary
 * frames after a hello that announces them (each connection says for itself). After events are
 * aggregated it writes back, per connection, the cumulative count of events consumed.
 */
export class SocketReceiver implements EventSource {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  /** Times a connection's reading was paused for sending garbage faster than its budget. */
  throttled = 0;

  constructor(private readonly options: SocketReceiverOptions) {}

  get connections(): number {
    return this.sockets.size;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  async start(): Promise<void> {
    preparePrivateSocketDir(this.options.path);
    await removeStaleSocket(this.options.path);
    const server = net.createServer((socket) => this.accept(socket));
    server.maxConnections = MAX_CONNECTIONS;
    this.server = server;
    // Create the file already restricted, then set the configured mode.
    const oldMask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.options.path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(oldMask);
    }
    await chmod(this.options.path, this.options.mode);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    await unlink(this.options.path).catch(() => {});
    this.server = undefined;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    const delay = this.options.ackDelayMs ?? 20;
    let consumed = 0;
    let lastAckAt = 0;
    let ended = false;
    let ackTimer: NodeJS.Timeout | undefined;
    const ack = () => {
      ackTimer = undefined;
      lastAckAt = performance.now();
      // Never after the peer has ended: nobody reads it, and the write would fail the socket.
      if (ended || !socket.writable || socket.writableLength > ACK_BACKLOG_LIMIT) return;
      socket.write(`${consumed}\n`);
    };
    // The first line decides the encoding: a hello announcing binary frames switches the reader.
    let decided = false;
    let binaryHello = false;
    let binary: BinaryFrameReader | undefined;
    const framer = new LineFramer(
      MAX_LINE_BYTES,
      (bytes, start, end) => {
        if (!decided) binaryHello = announcesBinary(bytes, start, end);
        this.options.onLine(bytes, start, end);
      },
      this.options.onTooLong,
    );
    const read = (chunk: Buffer): number => {
      if (binary) return binary.push(chunk);
      if (decided) return framer.push(chunk);
      const n = framer.push(chunk, 1);
      if (n === 0) return 0;
      decided = true;
      const rest = chunk.subarray(framer.stoppedAt);
      if (!binaryHello) return n + framer.push(rest);
      binary = this.options.binaryReader();
      return n + binary.push(rest);
    };
    // Garbage costs the exporter what the client spends writing it, so a client that sends little
    // else is held to a budget: past it, its reading pauses until the second is over (its writes
    // then block in the kernel). A well-behaved emitter never spends any.
    const budget = this.options.garbageBytesPerSecond;
    let garbage = 0;
    let windowStart = 0;
    let pausedTimer: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: Buffer) => {
      const rejectedBefore = this.options.rejected();
      consumed += this.options.chunk ? this.options.chunk(() => read(chunk)) : read(chunk);
      reclaimReads(chunk.length);
      if (binary?.failed) {
        // A frame of an unknown type: nothing after it can be framed. Acknowledge what was read, then close.
        ack();
        socket.end();
        return;
      }
      if (this.options.rejected() !== rejectedBefore || framer.discarding) {
        const now = performance.now();
        if (now - windowStart >= 1_000) {
          windowStart = now;
          garbage = 0;
        }
        garbage += chunk.length;
        if (garbage > budget && !pausedTimer) {
          this.throttled++;
          socket.pause();
          pausedTimer = setTimeout(
            () => {
              pausedTimer = undefined;
              socket.resume();
            },
            1_000 - (now - windowStart),
          );
        }
      }
      // Acknowledged within `delay` of reading, in the wakeup of a read whenever one comes at least
      // half the delay after the last acknowledgement: a stream of batches (every 50 ms by default) is
      // acknowledged as it is read and never wakes the exporter for a timer. An idle process woken
      // on this VM costs about as much as a batch of a thousand events; measured with 10 events every
      // 50 ms, the exporter used 30 ms of CPU a second with a timer per acknowledgement, 20 without.
      const since = performance.now() - lastAckAt;
      if (since >= delay / 2) {
        clearTimeout(ackTimer);
        ack();
      } else if (!ackTimer) ackTimer = setTimeout(ack, delay - since);
    });
    socket.on('end', () => {
      ended = true;
      clearTimeout(ackTimer);
      if (binary ? binary.finish() : framer.finish()) this.options.onTruncated();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(ackTimer);
      clearTimeout(pausedTimer);
      this.sockets.delete(socket);
    });
  }
}

/** Whether a connection's first line is a hello announcing binary frames. */
function announcesBinary(bytes: Buffer, start: number, end: number): boolean {
  const result = decodeBytes(bytes, start, end);
  return result.ok && result.event.kind === 'hello' && result.event.encoding === BINARY_ENCODING;
}

/** Removes a socket file left by a dead exporter; refuses to touch a live one or a non-socket. */
async function removeStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (!stat) return;
  if (!stat.isSocket()) throw new Error(`EVENTS_SOCKET ${path} exists and is not a socket; refusing to remove it`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new Error(`EVENTS_SOCKET ${path} is in use by another live process (another exporter?)`);
  await unlink(path);
}
