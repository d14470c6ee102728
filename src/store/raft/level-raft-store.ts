// The Raft log and stable state (term, vote, commit) in one LevelDB. hashicorp/raft splits what
// the user supplies into LogStore and StableStore; both are here behind one `write` so that the
// driver persists a whole Ready (snapshot point, entries, hard state) in ONE write batch with ONE
// sync: many proposals share one fsync (group commit).
//
// Reads are synchronous (LevelDB's getSync) because the pure core cannot await; the first and
// last index and the last term are kept in memory and change only when a write has completed.

import { Level } from 'level';
import { assert } from '../../util/assert.js';
import { StoreCorruptError, TstanError } from '../../util/errors.js';
import type { Entry, HardState } from '../../raft/types.js';
import { decodeEntry, encodeEntry, encodeMeta, entryBytes, entryKey, HARD_STATE_KEY, isSealedEntry, SNAPSHOT_POINT_KEY } from './records.js';
import { PayloadCipher, type EncryptionSettings } from '../crypto/payload-cipher.js';
import { readOpenedState, type LogPoint, type OpenedState } from './log-check.js';
import type { DurabilityReporter } from '../durability.js';
import { lossesAgainst, SyncWatermark, walDamage, type DurableClaim } from './loss-guard.js';

export const RaftStoreErrorCode = {
  /** The index asked for has been compacted away (behind the snapshot). */
  Compacted: 'RAFT_LOG_COMPACTED',
  /** The index asked for is past the end of the log. */
  Unavailable: 'RAFT_LOG_UNAVAILABLE',
  /** A previous write failed: the on-disk state is unknown, so the store refuses more work. */
  Failed: 'RAFT_STORE_FAILED',
  /** The database could not be opened (locked by another process, bad directory...). */
  OpenFailed: 'RAFT_STORE_OPEN_FAILED',
  /** The store has been closed. */
  Closed: 'RAFT_STORE_CLOSED',
} as const;

export interface LogStore {
  /** Index of the first entry present; lastIndex() + 1 when the log is empty. */
  firstIndex(): number;
  /** Index of the last entry, or of the snapshot point when the log is empty. */
  lastIndex(): number;
  /** Term of the entry at `index`; also answers for the snapshot point just before firstIndex(). */
  term(index: number): number;
  entry(index: number): Entry;
  /** Entries [low, high), at most `bytesMax` of them by size but always at least one. */
  entries(low: number, high: number, bytesMax?: number): Entry[];
  storeEntries(entries: readonly Entry[]): Promise<void>;
  /** Deletes every entry at or after `fromIndex` (a conflicting suffix). */
  truncateSuffix(fromIndex: number): Promise<void>;
  /** Deletes every entry at or before `throughIndex` (compaction behind a snapshot). */
  compactPrefix(throughIndex: number): Promise<void>;
}

export interface StableStore {
  hardState(): HardState;
  setHardState(hardState: HardState): Promise<void>;
}

/** Everything one Ready asks to persist, applied in this order in one batch. */
export interface RaftStoreWrite {
  /** A snapshot was installed at this point: compact behind it, discard a log that disagrees. */
  readonly snapshotPoint?: LogPoint;
  /** With snapshotPoint: discard the whole log even where it agrees (a snapshot received from the leader). */
  readonly replaceLog?: boolean;
  /** Appended after the entry before entries[0]; a stored suffix beyond them is deleted. */
  readonly entries?: readonly Entry[];
  readonly hardState?: HardState;
}

export interface LevelRaftStoreOptions {
  /** fsync every write (`cluster_sync`, default true). */
  readonly sync?: boolean;
  /** How many entries at the log's tail are read and verified on open (default 4096). */
  readonly openCheckEntries?: number;
  /** Test hook: told after every synced write (src/store/durability.ts). */
  readonly durability?: DurabilityReporter;
  /** The sync watermark's file (loss-guard.ts); none: no watermark is kept. */
  readonly watermarkPath?: string;
  /** Encryption at rest: Normal entries are sealed under the master key, as the reference's raft log. */
  readonly encryption?: EncryptionSettings;
}

/** How far back from the last entry open() looks for a sealed one to try the key on. */
const KEY_CHECK_ENTRIES_MAX = 64;

export interface RaftStoreStats {
  readonly writes: number;
  readonly syncs: number;
  readonly entriesWritten: number;
}


type Operation = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

export class LevelRaftStore implements LogStore, StableStore {
  private readonly db: Level<Buffer, Buffer>;
  private readonly sync: boolean;
  private snapshotPointValue: LogPoint;
  private hardStateValue: HardState;
  private lastIndexValue: number;
  private lastTermValue: number;
  private queueTail: Promise<void> = Promise.resolve();
  private failure: unknown = undefined;
  private closed = false;
  private writes = 0;
  private syncs = 0;
  private entriesWritten = 0;

  private readonly durability: DurabilityReporter | undefined;
  private readonly watermark: SyncWatermark | undefined;
  /** What the store found lost on open (loss-guard.ts); empty when nothing. */
  private lossesFound: readonly string[] = [];
  /** Seals and opens Normal entries' data; undefined without encryption at rest. */
  private cipher: PayloadCipher | undefined;

  private constructor(
    db: Level<Buffer, Buffer>,
    sync: boolean,
    state: OpenedState,
    durability: DurabilityReporter | undefined,
    watermark: SyncWatermark | undefined,
  ) {
    this.db = db;
    this.sync = sync;
    this.durability = durability;
    this.watermark = watermark;
    this.snapshotPointValue = state.snapshotPoint;
    this.hardStateValue = state.hardState;
    this.lastIndexValue = state.last.index;
    this.lastTermValue = state.last.term;
  }

  /** Opens (creating if needed) the store in `directory` and verifies the log's tail. */
  static async open(directory: string, options: LevelRaftStoreOptions = {}): Promise<LevelRaftStore> {
    // Before LevelDB opens: it drops a damaged record silently and rewrites its log.
    const walLosses = walDamage(directory);
    const db = new Level<Buffer, Buffer>(directory, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    try {
      await db.open({ createIfMissing: true });
    } catch (error) {
      throw new TstanError(RaftStoreErrorCode.OpenFailed, `cannot open raft store in ${directory}`, {
        cause: error,
      });
    }
    try {
      const state = await readOpenedState(db, directory, options.openCheckEntries ?? 4096);
      const watermark = options.watermarkPath === undefined ? undefined : SyncWatermark.open(options.watermarkPath, options.durability);
      const store = new LevelRaftStore(db, options.sync ?? true, state, options.durability, watermark);
      if (options.encryption !== undefined) {
        // Counting from past the last index, as the reference seeds its raft log's nonces.
        store.cipher = new PayloadCipher(options.encryption.cipher, options.encryption.masterKey, state.last.index + 1);
      }
      store.checkEntryKey();
      store.lossesFound = [...walLosses, ...state.losses, ...lossesAgainst(watermark?.claim, store.heldClaim(), (index) => store.termIfHeld(index))];
      return store;
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  /** Synced state the store found lost when it opened, in words (loss-guard.ts); empty when none. */
  get losses(): readonly string[] {
    return this.lossesFound;
  }

  /** What the store holds now, as the watermark would claim it. */
  heldClaim(): DurableClaim {
    return { last: this.lastPoint(), term: this.hardStateValue.term, vote: this.hardStateValue.vote };
  }

  /** After a loss was dealt with: the watermark claims what the store holds now, durably. */
  async resetWatermark(): Promise<void> {
    await this.watermark?.lower(this.heldClaim());
  }

  private termIfHeld(index: number): number | undefined {
    if (index < this.snapshotPointValue.index || index > this.lastIndexValue) return undefined;
    try {
      return this.term(index);
    } catch {
      return undefined;
    }
  }

  get location(): string {
    return this.db.location;
  }

  firstIndex(): number {
    return this.snapshotPointValue.index + 1;
  }

  lastIndex(): number {
    return this.lastIndexValue;
  }

  lastTerm(): number {
    return this.lastTermValue;
  }

  snapshotPoint(): LogPoint {
    return this.snapshotPointValue;
  }

  hardState(): HardState {
    return this.hardStateValue;
  }

  stats(): RaftStoreStats {
    return { writes: this.writes, syncs: this.syncs, entriesWritten: this.entriesWritten };
  }

  term(index: number): number {
    if (index === this.snapshotPointValue.index) return this.snapshotPointValue.term;
    if (index === this.lastIndexValue) return this.lastTermValue;
    // The header is enough: a sealed body is not opened for its term.
    return this.readEntry(index, true).term;
  }

  entry(index: number): Entry {
    return this.readEntry(index, false);
  }

  private readEntry(index: number, headerOnly: boolean): Entry {
    this.checkReadable(index);
    const value = this.db.getSync(entryKey(index));
    if (value === undefined) {
      throw new StoreCorruptError(`${this.db.location}: raft log entry ${index} is missing`);
    }
    return decodeEntry(value, index, this.db.location, this.cipher, headerOnly);
  }

  /**
   * Opens the newest sealed entry (of the last few) so that a wrong key, or a missing -encrypt
   * on a node whose log is encrypted, stops start-up with a clear error instead of failing later.
   */
  private checkEntryKey(): void {
    const lowest = Math.max(this.firstIndex(), this.lastIndexValue - KEY_CHECK_ENTRIES_MAX + 1);
    for (let index = this.lastIndexValue; index >= lowest; index--) {
      const value = this.db.getSync(entryKey(index));
      if (value === undefined || !isSealedEntry(value)) continue;
      decodeEntry(value, index, this.db.location, this.cipher);
      return;
    }
  }

  entries(low: number, high: number, bytesMax = Number.POSITIVE_INFINITY): Entry[] {
    assert(low <= high, `entries: low ${low} > high ${high}`);
    if (low === high) return [];
    this.checkReadable(high - 1);
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = low; index < high; index++) {
      const entry = this.entry(index);
      bytes += entryBytes(entry);
      if (result.length > 0 && bytes > bytesMax) break;
      result.push(entry);
    }
    return result;
  }

  storeEntries(entries: readonly Entry[]): Promise<void> {
    return this.write({ entries });
  }

  setHardState(hardState: HardState): Promise<void> {
    return this.write({ hardState });
  }

  truncateSuffix(fromIndex: number): Promise<void> {
    return this.enqueue(async () => {
      const from = Math.max(fromIndex, this.firstIndex());
      if (from > this.lastIndexValue) return;
      assert(
        from > this.hardStateValue.commit,
        `truncating from ${from} would remove committed entries (commit ${this.hardStateValue.commit})`,
      );
      const operations: Operation[] = [];
      this.deleteRange(operations, from, this.lastIndexValue);
      const lastTerm = this.termAfterTruncation(from - 1);
      // Shrink the readable range before the deletes land: a read between the write and its
      // callback must not find an index the store claims but LevelDB no longer has.
      await this.lowerWatermark(from);
      this.lastIndexValue = from - 1;
      this.lastTermValue = lastTerm;
      await this.commitBatch(operations, 0);
      this.recordWatermark(this.sync);
    });
  }

  compactPrefix(throughIndex: number): Promise<void> {
    return this.enqueue(async () => {
      if (throughIndex <= this.snapshotPointValue.index) return;
      assert(throughIndex <= this.lastIndexValue, `compacting through ${throughIndex} past the last index`);
      const point = { index: throughIndex, term: this.term(throughIndex) };
      const operations: Operation[] = [];
      this.deleteRange(operations, this.firstIndex(), throughIndex);
      operations.push({ type: 'put', key: SNAPSHOT_POINT_KEY, value: encodeMeta(point) });
      this.snapshotPointValue = point;
      await this.commitBatch(operations, 0);
    });
  }

  /** Persists a Ready's worth of state in one batch with one sync. */
  write(update: RaftStoreWrite, options: { sync?: boolean } = {}): Promise<void> {
    const sync = this.sync && options.sync !== false;
    return this.enqueue(async () => {
      const operations: Operation[] = [];
      const next: WriteState = { snapshotPoint: this.snapshotPointValue, last: this.lastPoint(), rewriteFrom: Number.POSITIVE_INFINITY };
      if (update.snapshotPoint !== undefined) {
        this.planSnapshotPoint(operations, update.snapshotPoint, update.replaceLog === true, next);
      }
      const entries = update.entries ?? [];
      const appended = this.planEntries(operations, entries, next);
      if (update.hardState !== undefined) {
        const hardState = update.hardState;
        assert(hardState.term >= this.hardStateValue.term, `term regresses to ${hardState.term}`);
        operations.push({ type: 'put', key: HARD_STATE_KEY, value: encodeMeta(hardStateBody(hardState)) });
      }
      if (operations.length === 0) return;
      await this.lowerWatermark(next.rewriteFrom);
      // Anything the write removes leaves the readable range before the write is issued; what it
      // adds joins the range once it is durable.
      const replacesLog = next.snapshotPoint.index !== this.snapshotPointValue.index;
      if (replacesLog || next.last.index < this.lastIndexValue) this.setLast(next.last);
      this.snapshotPointValue = next.snapshotPoint;
      await this.commitBatch(operations, appended, sync);
      this.setLast(next.last);
      if (update.hardState !== undefined) this.hardStateValue = copyHardState(update.hardState);
      this.recordWatermark(sync);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queueTail;
    this.watermark?.close();
    await this.db.close();
  }

  /**
   * A write is about to replace or delete entries from `rewriteFrom` on: if the watermark claims
   * one of them, it comes down first to a point that the log holds both before and after the
   * write (the commit point, or the snapshot point below it).
   */
  private async lowerWatermark(rewriteFrom: number): Promise<void> {
    const claim = this.watermark?.claim;
    if (this.watermark === undefined || claim === undefined || rewriteFrom > claim.last.index) return;
    const index = Math.max(this.hardStateValue.commit, this.snapshotPointValue.index);
    const term = index === this.snapshotPointValue.index ? this.snapshotPointValue.term : this.entry(index).term;
    await this.watermark.lower({ last: { index, term }, term: this.hardStateValue.term, vote: this.hardStateValue.vote });
  }

  private recordWatermark(synced: boolean): void {
    if (synced) this.watermark?.record(this.heldClaim());
  }

  private setLast(point: LogPoint): void {
    this.lastIndexValue = point.index;
    this.lastTermValue = point.term;
  }

  private lastPoint(): LogPoint {
    return { index: this.lastIndexValue, term: this.lastTermValue };
  }

  private planSnapshotPoint(operations: Operation[], point: LogPoint, replaceLog: boolean, next: WriteState): void {
    if (point.index <= next.snapshotPoint.index) return;
    const agrees = point.index <= next.last.index && this.term(point.index) === point.term;
    const keepsSuffix = agrees && !replaceLog;
    if (keepsSuffix) {
      this.deleteRange(operations, next.snapshotPoint.index + 1, point.index);
    } else {
      next.rewriteFrom = Math.min(next.rewriteFrom, next.snapshotPoint.index + 1);
      assert(
        agrees || point.index > this.hardStateValue.commit || point.index > next.last.index,
        `snapshot at ${point.index} term ${point.term} contradicts the committed log (commit ${this.hardStateValue.commit})`,
      );
      // The log disagrees with the snapshot (or is shorter): everything in it is superseded.
      this.deleteRange(operations, next.snapshotPoint.index + 1, next.last.index);
      next.last = { index: point.index, term: point.term };
    }
    next.snapshotPoint = { index: point.index, term: point.term };
    operations.push({ type: 'put', key: SNAPSHOT_POINT_KEY, value: encodeMeta(next.snapshotPoint) });
  }

  /** Adds the puts (and the stale suffix's deletes) of an append; returns how many entries go in. */
  private planEntries(operations: Operation[], all: readonly Entry[], next: WriteState): number {
    // Entries the snapshot point already covers are durable in the snapshot: skip them.
    let start = 0;
    while (start < all.length && all[start]!.index <= next.snapshotPoint.index) start++;
    if (start === all.length) return 0;
    const first = all[start]!;
    const location = this.db.location;
    assert(first.index <= next.last.index + 1, `${location}: append at ${first.index} leaves a gap after ${next.last.index}`);
    const previousTerm =
      first.index - 1 === next.last.index
        ? next.last.term
        : first.index - 1 === next.snapshotPoint.index
          ? next.snapshotPoint.term
          : this.term(first.index - 1);
    assert(first.term >= previousTerm, `${location}: append at ${first.index} has term ${first.term} < ${previousTerm}`);
    const hardCommit = this.hardStateValue.commit;
    if (first.index <= next.last.index) {
      assert(first.index > hardCommit, `append at ${first.index} overwrites committed entries (commit ${hardCommit})`);
      next.rewriteFrom = Math.min(next.rewriteFrom, first.index);
    }
    let previous = first;
    for (let i = start; i < all.length; i++) {
      const entry = all[i]!;
      if (i > start) {
        assert(entry.index === previous.index + 1, `append batch not contiguous at ${entry.index}`);
        assert(entry.term >= previous.term, `append batch term decreases at ${entry.index}`);
      }
      operations.push({ type: 'put', key: entryKey(entry.index), value: encodeEntry(entry, this.cipher) });
      previous = entry;
    }
    // The new entries replace everything after them: a stale suffix must not survive.
    this.deleteRange(operations, previous.index + 1, next.last.index);
    next.last = { index: previous.index, term: previous.term };
    return all.length - start;
  }

  private deleteRange(operations: Operation[], from: number, through: number): void {
    for (let index = from; index <= through; index++) operations.push({ type: 'del', key: entryKey(index) });
  }

  private termAfterTruncation(index: number): number {
    return index === this.snapshotPointValue.index ? this.snapshotPointValue.term : this.readEntry(index, true).term;
  }

  private checkReadable(index: number): void {
    if (this.closed) throw new TstanError(RaftStoreErrorCode.Closed, 'raft store is closed');
    if (index <= this.snapshotPointValue.index) {
      throw new TstanError(
        RaftStoreErrorCode.Compacted,
        `raft log entry ${index} is compacted (snapshot at ${this.snapshotPointValue.index})`,
      );
    }
    if (index > this.lastIndexValue) {
      throw new TstanError(
        RaftStoreErrorCode.Unavailable,
        `raft log entry ${index} is past the last index ${this.lastIndexValue}`,
      );
    }
  }

  private async commitBatch(operations: Operation[], appended: number, sync = this.sync): Promise<void> {
    // The chained batch fills LevelDB's WriteBatch directly; the array form clones and
    // re-validates every operation on the main thread, about ten times the cost per entry.
    const batch = this.db.batch();
    try {
      for (const operation of operations) {
        if (operation.type === 'put') batch.put(operation.key, operation.value);
        else batch.del(operation.key);
      }
    } catch (error) {
      await batch.close();
      throw error;
    }
    await batch.write({ sync });
    this.writes++;
    if (sync) this.syncs++;
    if (sync) this.durability?.syncedLevelDb(this.db.location);
    this.entriesWritten += appended;
  }

  /** Runs mutations one after another so each plans against the state the previous one left. */
  private enqueue(mutation: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new TstanError(RaftStoreErrorCode.Closed, 'raft store is closed'));
    const run = this.queueTail.then(async () => {
      if (this.failure !== undefined) {
        throw new TstanError(RaftStoreErrorCode.Failed, 'an earlier raft store write failed', {
          cause: this.failure,
        });
      }
      try {
        await mutation();
      } catch (error) {
        this.failure = error;
        throw error;
      }
    });
    this.queueTail = run.catch(() => undefined);
    return run;
  }
}

interface WriteState {
  snapshotPoint: LogPoint;
  last: LogPoint;
  /** The first entry the write replaces or deletes (not by compaction); +Infinity when none. */
  rewriteFrom: number;
}

function hardStateBody(hardState: HardState): [number, string, number] {
  return [hardState.term, hardState.vote, hardState.commit];
}

function copyHardState(hardState: HardState): HardState {
  return { term: hardState.term, vote: hardState.vote, commit: hardState.commit };
}
