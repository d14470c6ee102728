// The node's view of its log: what storage holds durably, the unstable tail not yet persisted (or
// a received snapshot not yet persisted), and a cache of recent durable entries, bounded in
// entries and in bytes, so that replication rarely reads the log store. Also the commit and apply
// positions.
import type { Entry } from './types.js';
import type { Snapshot } from './messages.js';
import type { RaftStorage } from './storage.js';
import { entryBytes } from './messages.js';
import { assert } from '../util/assert.js';

export interface LogStats {
  cacheHits: number;
  storageReads: number;
}

export class RaftLog {
  /** Index of unstable[0]: one past what storage holds (or will hold once a truncation lands). */
  private unstableOffset: number;
  private unstable: Entry[] = [];
  private unstableSnapshot: Snapshot | undefined;
  /** cache[0] has index cacheOffset; the cache ends at the last durable entry. */
  private cache: Entry[] = [];
  private cacheOffset = 0;
  /** entryBytes() of every entry in the cache. */
  private cacheBytes = 0;
  committed: number;
  applied: number;
  readonly stats: LogStats = { cacheHits: 0, storageReads: 0 };

  constructor(
    private readonly storage: RaftStorage,
    private readonly cacheSize: number,
    committed: number,
    applied: number,
    /** The cache also stops at this many bytes: entries are batches of up to the largest proposal. */
    private readonly cacheBytesMax = Number.POSITIVE_INFINITY,
  ) {
    this.unstableOffset = storage.lastIndex() + 1;
    this.committed = committed;
    this.applied = applied;
    assert(committed <= storage.lastIndex(), `stored commit ${committed} beyond the last stored index ${storage.lastIndex()}`);
  }

  firstIndex(): number {
    return this.unstableSnapshot ? this.unstableSnapshot.meta.index + 1 : this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstable.length > 0) return this.unstableOffset + this.unstable.length - 1;
    if (this.unstableSnapshot) return this.unstableSnapshot.meta.index;
    return this.unstableOffset - 1;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** Term at `index`, or undefined when it is compacted away or beyond the log. */
  term(index: number): number | undefined {
    if (index === 0) return 0;
    if (index > this.lastIndex()) return undefined;
    if (index >= this.unstableOffset) return this.unstable[index - this.unstableOffset]?.term;
    if (this.unstableSnapshot) {
      return index === this.unstableSnapshot.meta.index ? this.unstableSnapshot.meta.term : undefined;
    }
    const cached = this.cache[index - this.cacheOffset];
    if (cached && index >= this.cacheOffset) return cached.term;
    return this.storage.term(index);
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries [low, high), at most `countMax` and about `bytesMax` (at least one); undefined when
   * part of the range is compacted away.
   */
  entries(low: number, high: number, countMax: number, bytesMax: number): Entry[] | undefined {
    high = Math.min(high, this.lastIndex() + 1, low + countMax);
    if (low >= high) return [];
    if (low < this.firstIndex()) return undefined;
    const out: Entry[] = [];
    let bytes = 0;
    const push = (entry: Entry): boolean => {
      bytes += entryBytes(entry);
      if (out.length > 0 && bytes > bytesMax) return false;
      out.push(entry);
      return true;
    };
    let index = low;
    if (index < this.unstableOffset) {
      const stableHigh = Math.min(high, this.unstableOffset);
      if (index >= this.cacheOffset && this.cache.length > 0 && index < this.cacheOffset + this.cache.length) {
        this.stats.cacheHits++;
        for (; index < stableHigh; index++) if (!push(this.cache[index - this.cacheOffset]!)) return out;
      } else {
        this.stats.storageReads++;
        for (const entry of this.storage.entries(index, stableHigh, bytesMax)) {
          if (!push(entry)) return out;
          index++;
        }
        if (index < stableHigh) return out;
      }
    }
    for (; index < high; index++) if (!push(this.unstable[index - this.unstableOffset]!)) return out;
    return out;
  }

  /** The first index where `entries` disagree with the log (or go past it), 0 if none. */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /** The largest index at or below `index` whose term is at most `term` (the backtracking hint). */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let at = Math.min(index, this.lastIndex()); at >= 0; at--) {
      const atTerm = this.term(at);
      if (atTerm === undefined) return { index: at, term: 0 };
      if (atTerm <= term) return { index: at, term: atTerm };
    }
    return { index: 0, term: 0 };
  }

  /** Append at the end or overwrite an uncommitted suffix. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (!first) return;
    assert(first.index > this.committed, `truncating at ${first.index}, at or below commit ${this.committed}`);
    assert(first.index <= this.lastIndex() + 1, `append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    if (first.index === this.unstableOffset + this.unstable.length) {
      for (const entry of entries) this.unstable.push(entry);
      return;
    }
    if (first.index >= this.unstableOffset) {
      this.unstable.length = first.index - this.unstableOffset;
      for (const entry of entries) this.unstable.push(entry);
      return;
    }
    // The truncation reaches into durable entries: the next Ready rewrites from `first.index`.
    if (this.cache.length > 0) this.dropCacheFrom(Math.max(0, first.index - this.cacheOffset));
    this.unstableOffset = first.index;
    this.unstable = [...entries];
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    assert(index <= this.lastIndex(), `commit ${index} beyond the last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  appliedTo(index: number): void {
    assert(index <= this.committed && index >= this.applied, `applied ${index} outside [${this.applied}, ${this.committed}]`);
    this.applied = index;
  }

  /** A received snapshot replaces the whole log. */
  restore(snapshot: Snapshot): void {
    assert(snapshot.meta.index > this.committed, `snapshot at ${snapshot.meta.index} is not past commit ${this.committed}`);
    this.unstableSnapshot = snapshot;
    this.unstableOffset = snapshot.meta.index + 1;
    this.unstable = [];
    this.dropCacheFrom(0);
    this.committed = snapshot.meta.index;
  }

  unstableEntries(): readonly Entry[] {
    return this.unstable;
  }

  /** The last index that is durable and still part of the log. */
  durableLastIndex(): number {
    return this.unstableSnapshot ? 0 : this.unstableOffset - 1;
  }

  pendingSnapshot(): Snapshot | undefined {
    return this.unstableSnapshot;
  }

  /** Entries up to (index, term) are durable: move them from the unstable tail to the cache. */
  stableTo(index: number, term: number): void {
    if (index < this.unstableOffset || this.term(index) !== term) return;
    const count = index - this.unstableOffset + 1;
    const stable = this.unstable.splice(0, count);
    if (this.cache.length === 0 || this.cacheOffset + this.cache.length !== this.unstableOffset) {
      this.dropCacheFrom(0);
      this.cacheOffset = this.unstableOffset;
    }
    for (const entry of stable) {
      this.cache.push(entry);
      this.cacheBytes += entryBytes(entry);
    }
    this.unstableOffset = index + 1;
    this.trimCache();
  }

  stableSnapshotTo(index: number): void {
    if (this.unstableSnapshot?.meta.index === index) this.unstableSnapshot = undefined;
  }

  /** The driver discarded entries below `index` from storage. */
  compacted(index: number): void {
    if (index > this.cacheOffset) {
      this.dropCacheHead(Math.min(this.cache.length, index - this.cacheOffset));
      this.cacheOffset = index;
    }
  }

  /** Bytes of entries the cache holds. */
  cachedBytes(): number {
    return this.cacheBytes;
  }

  /** Drops the oldest cached entries until the cache is within both of its bounds. */
  private trimCache(): void {
    let excess = 0;
    let bytes = this.cacheBytes;
    while (excess < this.cache.length && (this.cache.length - excess > this.cacheSize || bytes > this.cacheBytesMax)) {
      bytes -= entryBytes(this.cache[excess++]!);
    }
    if (excess > 0) {
      this.cache.splice(0, excess);
      this.cacheBytes = bytes;
      this.cacheOffset += excess;
    }
  }

  private dropCacheHead(count: number): void {
    for (let i = 0; i < count; i++) this.cacheBytes -= entryBytes(this.cache[i]!);
    this.cache.splice(0, count);
  }

  /** Keeps the first `length` cached entries. */
  private dropCacheFrom(length: number): void {
    for (let i = length; i < this.cache.length; i++) this.cacheBytes -= entryBytes(this.cache[i]!);
    this.cache.length = length;
  }

  /** Committed entries not yet handed to the application, at most `countMax`. */
  nextCommittedEntries(countMax: number, bytesMax: number): Entry[] {
    if (this.applied >= this.committed) return [];
    return this.entries(this.applied + 1, this.committed + 1, countMax, bytesMax) ?? [];
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > this.applied && this.unstableSnapshot === undefined;
  }
}
