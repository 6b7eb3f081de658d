export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
}

/**
 * Per-host circuit breakers: closed -> open after `failureThreshold` consecutive failures ->
 * half-open after `cooldownMs` (one trial request) -> closed on success, open again on failure.
 */
export class Breakers {
  private readonly hosts = new Map<string, { state: BreakerState; failures: number; openedAt: number; trial: boolean }>();
  private readonly now: () => number;

  constructor(private readonly options: BreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether a request to `host` may go now; in half-open, only one trial at a time. */
  allow(host: string): boolean {
    const b = this.hosts.get(host);
    if (!b || b.state === 'closed') return true;
    if (b.state === 'open') {
      if (this.now() - b.openedAt < this.options.cooldownMs) return false;
      b.state = 'half_open';
      b.trial = false;
    }
    if (b.trial) return false;
    b.trial = true;
    return true;
  }

  success(host: string): void {
    this.hosts.delete(host);
  }

  failure(host: string): void {
    const b = this.hosts.get(host) ?? { state: 'closed' as BreakerState, failures: 0, openedAt: 0, trial: false };
    b.failures++;
    if (b.state === 'half_open' || b.failures >= this.options.failureThreshold) {
      b.state = 'open';
      b.openedAt = this.now();
      b.trial = false;
    }
    this.hosts.set(host, b);
  }

  state(host: string): BreakerState {
    const b = this.hosts.get(host);
    if (!b) return 'closed';
    if (b.state === 'open' && this.now() - b.openedAt >= this.options.cooldownMs) return 'half_open';
    return b.state;
  }

  /** Counts by state for /internal/stats (hosts that never failed are not tracked: closed). */
  counts(): { closed: number; open: number; half_open: number } {
    const c = { closed: 0, open: 0, half_open: 0 };
    for (const host of this.hosts.keys()) c[this.state(host)]++;
    return c;
  }
}
