// What the core reads from durable storage, in the manner of etcd's Storage: only what has been
// persisted (the driver writes what Ready asks, then calls advance). Reads are synchronous; a
// driver backed by an asynchronous store serves them from its own in-memory index and tail.
import type { Entry, HardState } from './types.js';
import type { ClusterConfig, Snapshot, SnapshotMeta } from './messages.js';
import { entryBytes } from './messages.js';
import { assert } from '../util/assert.js';

export interface RaftInitialState {
  readonly hardState: HardState;
  /** The latest durable snapshot's position and membership, if any. */
  readonly snapshotMeta?: SnapshotMeta;
}

export interface RaftStorage {
  initialState(): RaftInitialState;
  /** Index of the first entry present (lastIndex + 1 when the log is empty). */
  firstIndex(): number;
  /** Index of the last entry, or the snapshot's index when no entry follows it. */
  lastIndex(): number;
  /**
   * Term of the entry at `index`, for index in [firstIndex - 1, lastIndex]; undefined when it is
   * compacted away and is not the snapshot's index. term(0) is 0.
   */
  term(index: number): number | undefined;
  /** Entries [low, high) within [firstIndex, lastIndex + 1), at most `bytesMax` (at least one). */
  entries(low: number, high: number, bytesMax: number): Entry[];
  /** The latest durable snapshot, for sending to followers that fell behind the log. */
  snapshot(): Snapshot | undefined;
}

/** What one Ready asks to persist: snapshot, then entries, then hard state, in one durable write. */
export interface PersistRequest {
  readonly snapshot?: Snapshot;
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
  /** False when nothing in the request needs to be durable before messages leave. */
  readonly mustSync: boolean;
}

/**
 * What the driver needs of durable storage: the core's synchronous reads, and the writes a Ready
 * asks for. The driver awaits each write before it lets out what depends on it; once a write has
 * resolved, the reads answer with what it wrote. src/store/raft implements it on LevelDB.
 */
export interface DurableStorage extends RaftStorage {
  /** Writes the founding configuration into an empty log; false (and no write) when the log has state. */
  bootstrap(config: ClusterConfig): Promise<boolean>;
  persist(request: PersistRequest): Promise<void>;
  /** Makes a snapshot the application took durable, and serves it from then on. */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** Deletes entries below `before`, never past the durable snapshot. */
  compact(before: number): Promise<void>;
  /**
   * Why this node must catch up before it votes or campaigns: its storage found synced state lost,
   * or an earlier start had not caught up yet. Undefined when it need not (or the storage cannot tell).
   */
  catchUpReason?(): string | undefined;
  /** Records durably that the node is behind the catch-up gate: a restart keeps it there. */
  holdCatchUpGate?(reason: string): Promise<void>;
  /** The node caught up: after a restart it may vote at once. */
  releaseCatchUpGate?(): Promise<void>;
  stats(): { readonly syncs: number };
  close(): Promise<void>;
}

/**
 * An in-memory RaftStorage: the reference implementation for tests and the simulator, and a
 * model of what a durable one must answer. Mutations mirror what a driver persists from Ready.
 */
export class MemoryStorage implements RaftStorage {
  private hardState: HardState = { term: 0, vote: '', commit: 0 };
  private latestSnapshot: Snapshot | undefined;
  /** entries[0] has index `offset`. */
  private offset = 1;
  /** Term of the entry at offset - 1, when known. */
  private offsetTerm: number | undefined = 0;
  private log: Entry[] = [];

  initialState(): RaftInitialState {
    return this.latestSnapshot
      ? { hardState: this.hardState, snapshotMeta: this.latestSnapshot.meta }
      : { hardState: this.hardState };
  }

  firstIndex(): number {
    return this.offset;
  }

  lastIndex(): number {
    return this.offset + this.log.length - 1;
  }

  term(index: number): number | undefined {
    if (index === 0) return 0;
    if (this.latestSnapshot && index === this.latestSnapshot.meta.index) return this.latestSnapshot.meta.term;
    if (index === this.offset - 1) return this.offsetTerm;
    return this.log[index - this.offset]?.term;
  }

  entries(low: number, high: number, bytesMax: number): Entry[] {
    assert(low >= this.offset && high <= this.lastIndex() + 1 && low <= high, `entries [${low}, ${high}) out of range`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let index = low; index < high; index++) {
      const entry = this.log[index - this.offset]!;
      bytes += entryBytes(entry);
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(entry);
    }
    return out;
  }

  snapshot(): Snapshot | undefined {
    return this.latestSnapshot;
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  /** Append entries, first discarding any entry at or after the first new index. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (!first) return;
    assert(first.index >= this.offset && first.index <= this.lastIndex() + 1, `append at ${first.index} leaves a gap`);
    this.log.length = first.index - this.offset;
    for (const entry of entries) this.log.push(entry);
  }

  /** Replace the whole log by a received snapshot. */
  applySnapshot(snapshot: Snapshot): void {
    this.latestSnapshot = snapshot;
    this.offset = snapshot.meta.index + 1;
    this.offsetTerm = snapshot.meta.term;
    this.log = [];
  }

  /** Record a snapshot the application took of its own state (the log is kept). */
  setSnapshot(snapshot: Snapshot): void {
    this.latestSnapshot = snapshot;
  }

  /** Discard entries below `index`. */
  compact(index: number): void {
    if (index <= this.offset) return;
    assert(index <= this.lastIndex() + 1, `compact to ${index} beyond the log`);
    const previous = this.log[index - 1 - this.offset];
    this.offsetTerm = previous?.term;
    this.log = this.log.slice(index - this.offset);
    this.offset = index;
  }

  /** Start an empty log at `offset` whose previous entry had `offsetTerm` (recovering a compacted log). */
  resetTo(offset: number, offsetTerm: number | undefined): void {
    this.offset = offset;
    this.offsetTerm = offsetTerm;
    this.log = [];
  }

  /** Every entry present, for checkers. */
  allEntries(): readonly Entry[] {
    return this.log;
  }
}
