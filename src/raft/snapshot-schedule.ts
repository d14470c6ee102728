// When the driver takes a snapshot of the application: after snapshotEveryEntries applied
// entries, after an interval (counted in ticks) if anything was applied since the last one, or on
// demand. Pure bookkeeping; the driver does the taking, between Readies.
import type { SnapshotMeta } from './messages.js';

export interface SnapshotWaiter {
  readonly resolve: (meta: SnapshotMeta) => void;
  readonly reject: (error: Error) => void;
}

export class SnapshotSchedule {
  /** Index of the latest snapshot taken or installed (the one restored at start). */
  lastIndex: number;
  private ticksSince = 0;
  private readonly waiters: SnapshotWaiter[] = [];
  taken = 0;
  installed = 0;
  taking = false;
  restoring = false;

  constructor(
    startIndex: number,
    private readonly everyEntries: number,
    /** 0: no snapshots by time. */
    private readonly intervalTicks: number,
  ) {
    this.lastIndex = startIndex;
  }

  static intervalTicks(intervalMs: number, tickMs: number): number {
    return intervalMs > 0 ? Math.max(1, Math.round(intervalMs / tickMs)) : 0;
  }

  onTick(): void {
    this.ticksSince++;
  }

  request(waiter: SnapshotWaiter): void {
    this.waiters.push(waiter);
  }

  /** Whether a snapshot should be taken now, with `applied` entries applied. */
  due(applied: number): boolean {
    if (this.waiters.length > 0) return true;
    const fresh = applied - this.lastIndex;
    if (fresh <= 0) return false;
    if (fresh >= this.everyEntries) return true;
    return this.intervalTicks > 0 && this.ticksSince >= this.intervalTicks;
  }

  /** Those waiting for the snapshot about to be taken. */
  takeWaiters(): SnapshotWaiter[] {
    return this.waiters.splice(0);
  }

  onTaken(index: number): void {
    this.lastIndex = index;
    this.ticksSince = 0;
    this.taken++;
  }

  onInstalled(index: number): void {
    this.lastIndex = index;
    this.ticksSince = 0;
    this.installed++;
  }

  rejectAll(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
