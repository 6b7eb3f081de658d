import type { Clock } from '../clock.ts';

/** Told about every poll as it ends; the exposition turns this into duration and error metrics. */
export interface PollObserver {
  polled(target: string, seconds: number, ok: boolean): void;
}

export interface PollerOptions<T> {
  /** Label value and log name: `downloader`, `redis`. */
  target: string;
  intervalMs: number;
  timeoutMs: number;
  poll: (signal: AbortSignal) => Promise<T>;
  observer: PollObserver;
  clock: Clock;
  log?: (message: string) => void;
}

/** How long a target may be unreachable after start before it is logged (the start-up race). */
const STARTUP_GRACE_MS = 5_000;

/**
 * Polls one target on its own timer, with a timeout. Keeps the last good value and whether the
 * target is up; logs only changes of state, so a target that stays down costs one line.
 */
export class Poller<T> {
  /** Whether the last poll succeeded. */
  up = false;
  /** Polls failed since the last success. */
  failedInARow = 0;
  value: T | undefined;
  lastSuccessAt: number | undefined;
  /** The good value before `value`, for rates between two polls. */
  previous: { value: T; at: number } | undefined;
  lastError: string | undefined;
  private cancelTimer: (() => void) | undefined;
  private startedAt = 0;
  private everUp = false;
  /** A failure was logged and no recovery since: the next success says so. */
  private loggedDown = false;
  private stopped = false;
  private readonly log: (message: string) => void;

  /**
   * Whether the target counts as reachable: it answered the last poll, or it has answered before and
   * only the last poll failed. One slow answer is not an outage; two failures in a row are (a target
   * that fails is polled again within a second, so a stopped one counts as unreachable within an
   * interval and a second).
   */
  get reachable(): boolean {
    return this.up || (this.everUp && this.failedInARow < 2);
  }

  constructor(private readonly options: PollerOptions<T>) {
    this.log = options.log ?? ((m) => console.error(m));
    this.startedAt = options.clock.now();
  }

  start(): void {
    this.stopped = false;
    this.startedAt = this.options.clock.now();
    const loop = async () => {
      await this.pollNow();
      if (this.stopped) return;
      // A target that is down is retried within a second, so a start-up race heals quickly.
      const wait = this.up ? this.options.intervalMs : Math.min(this.options.intervalMs, 1_000);
      this.cancelTimer = this.options.clock.after(wait, () => void loop());
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
  }

  async pollNow(): Promise<void> {
    const started = performance.now();
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let ok = false;
    try {
      const value = await this.options.poll(signal);
      if (this.value !== undefined && this.lastSuccessAt !== undefined)
        this.previous = { value: this.value, at: this.lastSuccessAt };
      this.value = value;
      this.lastSuccessAt = this.options.clock.now();
      if (this.loggedDown) this.log(`exporter: ${this.options.target} is reachable again`);
      this.loggedDown = false;
      this.everUp = true;
      this.up = true;
      this.failedInARow = 0;
      this.lastError = undefined;
      ok = true;
    } catch (err) {
      const reason = signal.aborted ? `timed out after ${this.options.timeoutMs} ms` : describe(err);
      // A target not up yet at start-up (the sidecar usually starts first) is not news for a few seconds.
      const startingUp = !this.everUp && this.options.clock.now() - this.startedAt < STARTUP_GRACE_MS;
      if (!this.loggedDown && !startingUp) {
        this.log(`exporter: polling ${this.options.target} failed: ${reason}`);
        this.loggedDown = true;
      }
      this.up = false;
      this.failedInARow++;
      this.lastError = reason;
    } finally {
      this.options.observer.polled(this.options.target, (performance.now() - started) / 1000, ok);
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code;
    return code ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}
