export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  /** A host untouched this long is forgotten, whatever its state (default: 10 cool-downs). */
  forgetMs?: number;
  now?: () => number;
}

interface Failing {
  failures: number;
  lastAt: number;
}

interface Tripped {
  openedAt: number;
  /** Half-open with its one trial request in flight. */
  trial: boolean;
  halfOpen: boolean;
}

/**
 * Per-host circuit breakers: closed -> open after `failureThreshold` consecutive failures ->
 * half-open after `cooldownMs` (one trial request) -> closed on success, open again on failure.
 *
 * Memory and cost stay bounded whatever the callers ask for: hosts that never failed are not kept;
 * a host is forgotten after `forgetMs` without news; both maps are kept in time order (a touched
 * entry moves to the end), so forgetting walks only the expired head, and `counts()` reads map sizes
 * plus the head of the tripped map that has cooled down.
 */
export class Breakers {
  /** Closed, with consecutive failures below the threshold; ordered by last failure. */
  private readonly failing = new Map<string, Failing>();
  /** Open or half-open; ordered by when they opened. */
  private readonly tripped = new Map<string, Tripped>();
  private readonly now: () => number;
  private readonly forgetMs: number;

  constructor(private readonly options: BreakerOptions) {
    this.now = options.now ?? Date.now;
    this.forgetMs = options.forgetMs ?? 10 * options.cooldownMs;
  }

  /** Whether a request to `host` may go now; in half-open, only one trial at a time. */
  allow(host: string): boolean {
    const t = this.tripped.get(host);
    if (!t) return true;
    if (!t.halfOpen) {
      if (this.now() - t.openedAt < this.options.cooldownMs) return false;
      t.halfOpen = true;
      t.trial = false;
    }
    if (t.trial) return false;
    t.trial = true;
    return true;
  }

  success(host: string): void {
    this.failing.delete(host);
    this.tripped.delete(host);
  }

  failure(host: string): void {
    const now = this.now();
    this.forget(now);
    const t = this.tripped.get(host);
    if (t) {
      // A failed trial (or a late failure while open) opens it again, from now.
      this.tripped.delete(host);
      this.tripped.set(host, { openedAt: now, trial: false, halfOpen: false });
      return;
    }
    const f = this.failing.get(host) ?? { failures: 0, lastAt: now };
    this.failing.delete(host);
    f.failures++;
    f.lastAt = now;
    if (f.failures >= this.options.failureThreshold) this.tripped.set(host, { openedAt: now, trial: false, halfOpen: false });
    else this.failing.set(host, f);
  }

  state(host: string): BreakerState {
    const t = this.tripped.get(host);
    if (!t) return 'closed';
    return t.halfOpen || this.now() - t.openedAt >= this.options.cooldownMs ? 'half_open' : 'open';
  }

  /** Counts by state for /internal/stats (hosts that never failed, or were forgotten, are closed). */
  counts(): { closed: number; open: number; half_open: number } {
    const now = this.now();
    this.forget(now);
    let halfOpen = 0;
    // Oldest first: the ones that have cooled down are at the head.
    for (const t of this.tripped.values()) {
      if (!t.halfOpen && now - t.openedAt < this.options.cooldownMs) break;
      halfOpen++;
    }
    return { closed: this.failing.size, open: this.tripped.size - halfOpen, half_open: halfOpen };
  }

  /** Drops hosts without news for `forgetMs`: the expired heads of both time-ordered maps. */
  private forget(now: number): void {
    for (const [host, f] of this.failing) {
      if (now - f.lastAt < this.forgetMs) break;
      this.failing.delete(host);
    }
    for (const [host, t] of this.tripped) {
      if (now - t.openedAt < this.forgetMs) break;
      if (!t.trial) this.tripped.delete(host);
    }
  }
}
