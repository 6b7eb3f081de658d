import type { FetchFigures } from '../health/healthScore.ts';
import { slotWindow } from './slotWindow.ts';

interface Slot {
  epoch: number;
  fetches: number;
  unreachable: number;
  hosts: Set<string>;
}

/** Distinct hosts remembered per slot: the egress check needs a handful, so memory stays bounded. */
const HOSTS_PER_SLOT = 64;

/**
 * Upstream fetches over recent slots: how many, how many could not reach their host (network error
 * or timeout), and how many distinct hosts those were (by the events' host hash, kept only here).
 */
export class FetchWindow {
  private readonly ring: (Slot | undefined)[];

  constructor(
    private readonly slotMs: number,
    slots: number,
  ) {
    this.ring = new Array(slots);
  }

  record(unreachable: boolean, hostHash: string | undefined, nowMs: number): void {
    const slot = this.slotAt(nowMs);
    slot.fetches++;
    if (!unreachable) return;
    slot.unreachable++;
    if (hostHash !== undefined && slot.hosts.size < HOSTS_PER_SLOT) slot.hosts.add(hostHash);
  }

  window(windowMs: number, nowMs: number): FetchFigures {
    const { oldest, current } = slotWindow(windowMs, nowMs, this.slotMs);
    const hosts = new Set<string>();
    let fetches = 0;
    let unreachable = 0;
    for (const slot of this.ring) {
      if (!slot || slot.epoch < oldest || slot.epoch > current) continue;
      fetches += slot.fetches;
      unreachable += slot.unreachable;
      for (const h of slot.hosts) hosts.add(h);
    }
    return { fetches, unreachable, unreachableHosts: hosts.size };
  }

  private slotAt(nowMs: number): Slot {
    const epoch = Math.floor(nowMs / this.slotMs);
    const index = epoch % this.ring.length;
    let slot = this.ring[index];
    if (!slot || slot.epoch !== epoch) {
      slot = { epoch, fetches: 0, unreachable: 0, hosts: new Set() };
      this.ring[index] = slot;
    }
    return slot;
  }
}
