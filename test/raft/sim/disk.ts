// A simulated Raft log store with power failures: writes land in the page cache (visible to
// reads at once) and become durable only at fsync. A crash keeps the synced image plus some
// prefix of the unsynced writes, possibly with a torn last record that its checksum rejects.
import type { Entry, HardState } from '../../../src/raft/types.js';
import type { Snapshot } from '../../../src/raft/messages.js';
import { MemoryStorage } from '../../../src/raft/storage.js';
import type { Rng } from './rng.js';

type DiskOp =
  | { readonly type: 'append'; readonly entries: readonly Entry[] }
  | { readonly type: 'hardState'; readonly hardState: HardState }
  | { readonly type: 'installSnapshot'; readonly snapshot: Snapshot }
  | { readonly type: 'compact'; readonly index: number };

export interface CrashReport {
  readonly unsyncedWrites: number;
  readonly survivedWrites: number;
  readonly tornRecords: number;
}

export class SimDisk {
  /** What survives a power failure. */
  private durable = new MemoryStorage();
  private pending: DiskOp[] = [];
  /** What reads see: the durable image plus unsynced writes. */
  live = new MemoryStorage();
  syncs = 0;

  /** A bootstrap image written before the cluster starts (durable at once). */
  bootstrap(entries: readonly Entry[], hardState: HardState): void {
    for (const target of [this.durable, this.live]) {
      target.append(entries);
      target.setHardState(hardState);
    }
  }

  write(op: DiskOp): void {
    applyOp(this.live, op);
    this.pending.push(op);
  }

  sync(): void {
    for (const op of this.pending) applyOp(this.durable, op);
    this.pending = [];
    this.syncs++;
  }

  /** The disk is lost or replaced: nothing survives, not even the bootstrap image. */
  wipe(): void {
    this.durable = new MemoryStorage();
    this.pending = [];
    this.live = new MemoryStorage();
  }

  /** The application's snapshot files: written to a temporary name, fsynced, renamed. */
  saveSnapshot(snapshot: Snapshot): void {
    this.durable.setSnapshot(snapshot);
    this.live.setSnapshot(snapshot);
  }

  /** Power failure: unsynced writes are lost, except a random prefix that reached the platter. */
  crash(rng: Rng, tornTails: boolean): CrashReport {
    const unsyncedWrites = this.pending.length;
    const survivedWrites = rng.nextInt(unsyncedWrites + 1);
    let tornRecords = 0;
    for (let i = 0; i < survivedWrites; i++) applyOp(this.durable, this.pending[i]!);
    const torn = this.pending[survivedWrites];
    if (tornTails && torn?.type === 'append' && torn.entries.length > 0) {
      // The record after the surviving prefix is half written: its checksum fails, so recovery
      // keeps only the entries before it.
      const whole = rng.nextInt(torn.entries.length);
      if (whole > 0) applyOp(this.durable, { type: 'append', entries: torn.entries.slice(0, whole) });
      tornRecords = 1;
    }
    this.pending = [];
    this.live = cloneStorage(this.durable);
    return { unsyncedWrites, survivedWrites, tornRecords };
  }

  /** After a clean stop nothing is lost; the live view is rebuilt from the durable image. */
  restartView(): MemoryStorage {
    this.live = cloneStorage(this.durable);
    return this.live;
  }

  durableHardState(): HardState {
    return this.durable.initialState().hardState;
  }

  /** The last index that would survive a power failure now. */
  durableLastIndex(): number {
    return this.durable.lastIndex();
  }
}

function applyOp(storage: MemoryStorage, op: DiskOp): void {
  switch (op.type) {
    case 'append':
      storage.append(op.entries);
      return;
    case 'hardState':
      storage.setHardState(op.hardState);
      return;
    case 'installSnapshot':
      storage.applySnapshot(op.snapshot);
      return;
    case 'compact':
      storage.compact(Math.min(op.index, storage.lastIndex() + 1));
      return;
  }
}

function cloneStorage(source: MemoryStorage): MemoryStorage {
  const copy = new MemoryStorage();
  const snapshot = source.snapshot();
  if (snapshot) copy.applySnapshot(snapshot);
  const first = source.firstIndex();
  const entries = source.allEntries();
  if (entries.length > 0) {
    if (!snapshot || first !== snapshot.meta.index + 1) {
      copy.resetTo(first, source.term(first - 1));
    }
    copy.append(entries);
  }
  copy.setHardState(source.initialState().hardState);
  return copy;
}
