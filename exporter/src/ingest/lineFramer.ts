/**
 * Splits a byte stream into lines, handed over as (buffer, start, end) so no per-line object is made. A line longer than `maxLine` is never buffered whole: once the
 * partial line passes the limit, bytes are discarded up to the next newline and the line is
 * reported once as too long.
 */
export class LineFramer {
  private parts: Buffer[] = [];
  private partLength = 0;
  private discardingLine = false;

  constructor(
    private readonly maxLine: number,
    private readonly onLine: (bytes: Buffer, start: number, end: number) => void,
    private readonly onTooLong: () => void,
  ) {}

  /** Where the last `push` stopped in its chunk when it reached `maxLines`. */
  stoppedAt = 0;

  /**
   * Feeds one chunk; returns how many lines it completed (delivered or rejected). With `maxLines`,
   * stops after that many and leaves the rest of the chunk (from `stoppedAt`) to the caller.
   */
  push(chunk: Buffer, maxLines = Number.POSITIVE_INFINITY): number {
    let lines = 0;
    let pos = 0;
    for (;;) {
      if (lines === maxLines) {
        this.stoppedAt = pos;
        return lines;
      }
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) {
        this.stoppedAt = chunk.length;
        this.keep(chunk.subarray(pos));
        return lines;
      }
      lines++;
      if (this.discardingLine) {
        this.discardingLine = false;
        this.onTooLong();
      } else if (this.partLength > 0) {
        const line = Buffer.concat([...this.parts, chunk.subarray(pos, nl)]);
        this.parts = [];
        this.partLength = 0;
        if (line.length > this.maxLine) this.onTooLong();
        else this.onLine(line, 0, line.length);
      } else if (nl - pos > this.maxLine) {
        this.onTooLong();
      } else {
        this.onLine(chunk, pos, nl);
      }
      pos = nl + 1;
    }
  }

  /** Whether bytes are being thrown away up to the next newline (a line over the limit). */
  get discarding(): boolean {
    return this.discardingLine;
  }

  /** Bytes held for an unfinished line. */
  get pending(): number {
    return this.partLength;
  }

  /**
   * The stream has ended: an unfinished last line (bytes with no newline after them) is dropped and
   * reported, so nothing a client wrote goes unseen. Returns whether there was one.
   */
  finish(): boolean {
    const unfinished = this.partLength > 0 || this.discardingLine;
    this.parts = [];
    this.partLength = 0;
    this.discardingLine = false;
    return unfinished;
  }

  private keep(rest: Buffer): void {
    if (rest.length === 0 || this.discardingLine) return;
    if (this.partLength + rest.length > this.maxLine) {
      this.parts = [];
      this.partLength = 0;
      this.discardingLine = true;
      return;
    }
    // Copy: the chunk's memory belongs to the socket and may be reused.
    this.parts.push(Buffer.from(rest));
    this.partLength += rest.length;
  }
}
