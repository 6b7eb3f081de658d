/**
 * The two sides of an event transport (unix socket, Redis stream). Both move encoded events (NDJSON
 * lines, or on the socket binary frames) with acknowledged, at-least-once delivery; they differ only
 * in how bytes travel.
 */

/** Downloader side: owns the connection, not the buffer. */
export interface EventSink {
  /** Starts connecting; reconnects on its own until `close()`. */
  start(): void;
  /** True when `send` may be called. */
  readonly ready: boolean;
  /**
   * Sends `count` encoded events. The bytes are the caller's and stay unchanged until acknowledged,
   * so the transport may write them without a copy. The first `unnumbered` of them (a connection's
   * hello) carry no sequence number; the rest are numbered from `seq` on, the same numbers on every
   * resend, so a transport that cannot tell a lost answer from a lost write (the Redis stream) lets
   * the reader skip what it has already counted. Returns false when the transport wants the caller
   * to wait for `onDrain` before sending more.
   */
  send(bytes: Buffer, count: number, seq: number, unnumbered: number): boolean;
  close(): Promise<void>;
}

export interface SinkEvents {
  /** A (re)connection is established: unacknowledged lines must be resent. */
  onConnect(): void;
  /** The connection is gone; lines sent on it and not acknowledged are still owed. */
  onDisconnect(): void;
  /** The far side has consumed `count` more events, in send order, since the last call. */
  onAck(count: number): void;
  /** Buffered writes have drained. */
  onDrain(): void;
}

/** Exporter side: delivers raw lines to the pipeline and acknowledges them once aggregated. */
export interface EventSource {
  start(): Promise<void>;
  close(): Promise<void>;
}

export type TransportName = 'socket' | 'redis';

/**
 * The fields of a Redis stream entry (one flush). `e` is required; the rest come from our emitter and
 * let the exporter skip lines it has counted: `p` names the emitter, `s` is the sequence number of
 * the first numbered line, after the `h` unnumbered ones (a hello; absent: none). An entry without
 * `p` and `s` (any other writer) is counted whole.
 */
export const STREAM_FIELDS = { count: 'n', emitter: 'p', seq: 's', unnumbered: 'h', lines: 'e' } as const;
