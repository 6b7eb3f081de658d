import { createRedisClient, type EventSource, STREAM_FIELDS } from '@dl/shared';
import type { Redis } from 'ioredis';
import { reclaimReads } from './readReclaim.ts';

export interface StreamReceiverOptions {
  url: string;
  stream: string;
  group: string;
  consumer: string;
  /** Aggregates one line, `bytes[start, end)`, synchronously. */
  onLine: (bytes: Buffer, start: number, end: number) => void;
  /** Runs the reading of one entry's lines (the pipeline reads the clock once per entry). */
  chunk?: <T>(read: () => T) => T;
  /** Entries another consumer has held this long are claimed (XAUTOCLAIM). */
  claimIdleMs?: number;
  batch?: number;
  blockMs?: number;
  log?: (message: string) => void;
}

type Entry = [id: Buffer, fields: Buffer[]];

/**
 * Entries asked for per read. Redis answers a read whole, and the downloader's entries hold up to
 * 64 KiB of lines each (one flush slice): 16 of them bound a reply to 1 MiB. Draining a backlog of
 * a million events in 60 KB entries, the exporter's RSS peaked at 193-206 MB with 1,000 entries a
 * read, 90 with 100, 84 with 32, 79-81 with 16, at the same rate (610-630 thousand events a second);
 * exporter/test/redisBacklog.test.ts holds it. An entry itself is read whole: whoever can write
 * the stream is trusted with its size, as with Redis's memory (docs/security.md).
 */
const READ_ENTRIES = 16;

/**
 * Emitters whose next sequence number is remembered. One downloader process is one emitter (a
 * restart is a new one); past the cap the longest silent is forgotten, and a resend of its would be
 * counted again.
 */
const MAX_EMITTERS = 1_024;
const MAX_EMITTER_BYTES = 64;

/**
 * Redis stream transport, exporter side: a consumer group read with XREADGROUP, XACK after the
 * entries are aggregated. At start (and after any reconnect) it first re-reads its own pending
 * entries, so nothing read by a killed exporter is lost, then claims entries stale consumers left.
 * Entries aggregated but whose XACK failed are remembered, so a re-read never counts them twice.
 * Lines our emitter resent after losing the answer to an XADD Redis had stored are told apart by
 * their sequence numbers (STREAM_FIELDS) and skipped, counted in `duplicates`.
 */
export class StreamReceiver implements EventSource {
  private readonly client: Redis;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly unacked = new Set<string>();
  /** Per emitter, the sequence number of the first line not yet counted. */
  private readonly nextSeq = new Map<string, number>();
  private reportedDown = false;
  private readonly log: (message: string) => void;
  entriesRead = 0;
  duplicates = 0;

  constructor(private readonly options: StreamReceiverOptions) {
    this.log = options.log ?? ((m) => console.error(m));
    this.client = createRedisClient(options.url, { lazy: true }); // outages are reported by the loop, once each
  }

  get connected(): boolean {
    return this.client.status === 'ready';
  }

  async start(): Promise<void> {
    this.running = true;
    await this.client.connect().catch(() => {});
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.running = false;
    this.client.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      try {
        await this.ensureGroup();
        await this.drain('0'); // own pending entries first
        await this.claimStale();
        if (this.reportedDown) this.log(`exporter: reading Redis stream ${this.options.stream} again`);
        this.reportedDown = false;
        backoff = 100;
        while (this.running) await this.readNew();
      } catch (err) {
        if (!this.running) return;
        if (!this.reportedDown) this.log(`exporter: Redis stream read failed (${(err as Error).message}); retrying quietly`);
        this.reportedDown = true;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2_000);
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    try {
      // From the start of the stream: entries stored before the group existed were emitted and
      // acknowledged to the downloader, so they must be counted.
      await this.client.xgroup('CREATE', this.options.stream, this.options.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  }

  /** Reads this consumer's history from `from` ('0' = its pending entries) until none are left. */
  private async drain(from: string): Promise<void> {
    let cursor = from;
    for (;;) {
      const entries = await this.read(cursor, 0);
      if (entries.length === 0) return;
      await this.handle(entries);
      cursor = (entries.at(-1) as Entry)[0].toString();
    }
  }

  private async claimStale(): Promise<void> {
    let cursor = '0-0';
    do {
      const reply = (await this.client.callBuffer(
        'XAUTOCLAIM',
        this.options.stream,
        this.options.group,
        this.options.consumer,
        this.options.claimIdleMs ?? 30_000,
        cursor,
        'COUNT',
        this.options.batch ?? READ_ENTRIES,
      )) as [Buffer, Entry[]];
      cursor = reply[0].toString();
      // Another consumer read these and died with its counts: count them whole, even below a mark.
      await this.handle(
        reply[1].filter((e) => e?.[1] !== null),
        false,
      );
    } while (cursor !== '0-0' && this.running);
  }

  private async readNew(): Promise<void> {
    const entries = await this.read('>', this.options.blockMs ?? 1_000);
    if (entries.length) await this.handle(entries);
  }

  private async read(id: string, blockMs: number): Promise<Entry[]> {
    const args: (string | number)[] = [
      'GROUP',
      this.options.group,
      this.options.consumer,
      'COUNT',
      this.options.batch ?? READ_ENTRIES,
    ];
    if (blockMs > 0) args.push('BLOCK', blockMs);
    args.push('STREAMS', this.options.stream, id);
    const reply = (await this.client.callBuffer('XREADGROUP', ...args)) as unknown[] | null;
    if (!reply || reply.length === 0) return [];
    // RESP2 answers [[stream, entries]]; RESP3 (a map, flattened by the client) answers [stream, entries].
    const entries = Buffer.isBuffer(reply[0]) ? reply[1] : (reply[0] as unknown[])[1];
    return (entries as Entry[] | null) ?? [];
  }

  /** Aggregates each entry's lines, then acknowledges them all in one XACK. */
  private async handle(entries: Entry[], dedupe = true): Promise<void> {
    const ids: string[] = [];
    for (const [rawId, fields] of entries) {
      const id = rawId.toString();
      ids.push(id);
      if (this.unacked.has(id)) continue; // aggregated before a failed XACK: do not count twice
      this.entriesRead++;
      const lines = fieldValue(fields, STREAM_FIELDS.lines);
      if (lines) {
        const seq = sequence(fields);
        const skip = seq && dedupe ? Math.max(0, (this.nextSeq.get(seq.emitter) ?? 0) - seq.first) : 0;
        const split = () => this.split(lines, seq?.unnumbered ?? 0, skip);
        const numbered = this.options.chunk ? this.options.chunk(split) : split();
        if (seq) this.advance(seq.emitter, seq.first + numbered);
        reclaimReads(lines.length); // each entry is a buffer outside V8's heap, as a socket read is
      }
      this.unacked.add(id);
    }
    if (ids.length === 0) return;
    await this.client.xack(this.options.stream, this.options.group, ...ids);
    for (const id of ids) this.unacked.delete(id);
  }

  /**
   * Aggregates the entry's lines but the `skip` numbered ones after the first `unnumbered`; returns
   * how many numbered lines it holds.
   */
  private split(buf: Buffer, unnumbered: number, skip: number): number {
    let start = 0;
    let line = 0;
    while (start < buf.length) {
      let nl = buf.indexOf(10, start);
      if (nl < 0) nl = buf.length;
      if (nl > start) {
        const n = line++ - unnumbered;
        if (n < 0 || n >= skip) this.options.onLine(buf, start, nl);
        else this.duplicates++;
      }
      start = nl + 1;
    }
    return Math.max(0, line - unnumbered);
  }

  /** Remembers `next` as the emitter's first uncounted number (most recently heard emitters kept). */
  private advance(emitter: string, next: number): void {
    const known = this.nextSeq.get(emitter);
    if (known !== undefined) this.nextSeq.delete(emitter);
    else if (this.nextSeq.size >= MAX_EMITTERS) this.nextSeq.delete(this.nextSeq.keys().next().value as string);
    this.nextSeq.set(emitter, Math.max(known ?? 0, next));
  }
}

interface Sequence {
  emitter: string;
  first: number;
  unnumbered: number;
}

/** The entry's sequence fields, or undefined when it has none or they are malformed (counted whole). */
function sequence(fields: Buffer[]): Sequence | undefined {
  const emitter = fieldValue(fields, STREAM_FIELDS.emitter);
  const first = decimal(fieldValue(fields, STREAM_FIELDS.seq));
  const unnumbered = decimal(fieldValue(fields, STREAM_FIELDS.unnumbered)) ?? 0;
  if (!emitter || emitter.length === 0 || emitter.length > MAX_EMITTER_BYTES || first === undefined) return undefined;
  return { emitter: emitter.toString('latin1'), first, unnumbered };
}

/** A non-negative decimal integer of at most 15 digits (a safe integer), else undefined. */
function decimal(bytes: Buffer | undefined): number | undefined {
  if (!bytes || bytes.length === 0 || bytes.length > 15) return undefined;
  let n = 0;
  for (const b of bytes) {
    if (b < 48 || b > 57) return undefined;
    n = n * 10 + (b - 48);
  }
  return n;
}

function fieldValue(fields: Buffer[] | null, name: string): Buffer | undefined {
  if (!fields) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if ((fields[i] as Buffer).toString() === name) return fields[i + 1];
  return undefined;
}
