// A channel's messages in msgs.N.dat/msgs.N.idx slices. A batch is encoded and queued in one
// synchronous call; its `durable` Promise shares one group-commit round per channel: write the
// queued records, fsync the data file(s) (and the directory when a slice was created), and only
// then write the index entries, so an index entry always vouches for a durable record. Limits
// drop messages from the front and delete a slice once all of its messages are gone.
import { TstanError } from '../../util/errors.js';
import type { MsgProto } from '../records.js';
import {
  StoreErrorCode,
  type ChannelLimits,
  type LimitReason,
  type MsgStore,
  type MsgStoreState,
  type NotLoaded,
  type StoredBatch,
} from '../types.js';
import { GroupCommit, observed } from './append-file.js';
import { checkMsgForStore } from '../memory/memory-msg-store.js';
import { StoreIoError } from './errors.js';
import { createSlice, Slice, type SliceContext } from './msg-slice.js';
import { frameBatch, readMessage, readRun, type FramedBatch } from './msg-codec.js';
import { cachedRun, ChannelMsgCache, type MsgCacheBudget } from './msg-cache.js';
import type { FileStoreOptions } from './options.js';
import { decodeMsgProto } from '../records.js';

/** Most bytes read from the disk at once for a subscriber behind the cache. */
const READAHEAD_BYTES_MAX = 256 * 1024;

export interface MsgStoreContext extends SliceContext {
  readonly dir: string;
  readonly channel: string;
  readonly options: FileStoreOptions;
  readonly limits: () => ChannelLimits;
  readonly nowNs: () => bigint;
  /** False when the caller expires messages by age (StoreOptions.ageExpiry 'caller'). */
  readonly expireOnTimer: boolean;
  readonly onLimitReached: ((channel: string, reason: LimitReason) => void) | undefined;
  /** Removes a dropped slice's files (unlink, or rename + archive script). */
  readonly discardSlice: (slice: Slice) => void;
  /** The store-wide budget of the cache of recent messages. */
  readonly cacheBudget: MsgCacheBudget;
  /** Off when a wrapper keeps the stored messages itself (FileStore.takeWriteCache). */
  readonly writeCache: { readonly on: boolean };
}

export class FileMsgStore implements MsgStore {
  private readonly slices: Slice[];
  private first = 0;
  private last = 0;
  private msgs = 0;
  private bytes = 0;
  /** Recent messages as written (delivery reads them from here), and the read-ahead run. */
  private readonly cache: ChannelMsgCache;
  private readonly commit: GroupCommit;
  private dirSync: Promise<void> | undefined;
  private idxToSync = new Set<Slice>();
  /** Slices holding records whose index entries are not written yet. */
  private readonly unindexed = new Set<Slice>();
  private discarded: Slice[] = [];
  private failure: Error | undefined;
  private readonly limitHit = new Set<LimitReason>();
  private expiryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly context: MsgStoreContext,
    recovered: Slice[],
    dirSync: Promise<void> | undefined,
  ) {
    this.dirSync = dirSync;
    this.cache = new ChannelMsgCache(context.cacheBudget);
    this.slices = recovered;
    for (const slice of recovered) {
      this.msgs += slice.liveCount;
      this.bytes += slice.liveBytes;
    }
    const firstSlice = recovered.find((s) => s.count > 0);
    const lastSlice = [...recovered].reverse().find((s) => s.count > 0);
    if (firstSlice !== undefined && lastSlice !== undefined) {
      this.first = firstSlice.firstSeq;
      this.last = lastSlice.lastSeq;
    }
    this.commit = new GroupCommit(() => this.round());
    if (context.options.fdsLimit > 0) this.parkIdleSlices();
    // Limits may have shrunk, and messages dropped before the restart come back from the files.
    this.enforceCountLimits(false);
    this.scheduleExpiry();
  }

  storeBatch(msgs: MsgProto[]): StoredBatch {
    this.checkOpen();
    if (!Array.isArray(msgs)) throw new TstanError(StoreErrorCode.RecordInvalid, 'storeBatch takes an array of messages');
    for (const msg of msgs) checkMsgForStore(msg);
    if (msgs.length === 0) return { firstSeq: 0, lastSeq: 0, durable: this.flush() };
    const framed = frameBatch(msgs, this.last, this.context.channel, this.context.crc);
    this.appendAll(msgs, framed);
    this.enforceCountLimits();
    this.expireAged(this.context.nowNs());
    return { firstSeq: msgs[0]!.sequence, lastSeq: msgs[msgs.length - 1]!.sequence, durable: this.flush() };
  }

  /**
   * Hands each slice its part of the framed batch in one append, and caches the batch as runs of
   * consecutive sequences in the same slice (sharing the framed buffer).
   */
  private appendAll(msgs: MsgProto[], framed: FramedBatch): void {
    const { buffer, starts } = framed;
    const cache = this.context.writeCache.on;
    let segmentSlice: Slice | undefined;
    let segmentIndex = 0;
    let segmentBase = 0;
    let runIndex = 0;
    for (let i = 0; i < msgs.length; i++) {
      const msg = msgs[i]!;
      const seq = msg.sequence;
      const start = starts[i]!;
      const size = buffer.readUInt32LE(start);
      const slice = this.writeSlice(seq, msg.timestamp);
      if (slice !== segmentSlice) {
        if (segmentSlice !== undefined) segmentSlice.dat.append(buffer.subarray(starts[segmentIndex]!, start));
        segmentSlice = slice;
        segmentIndex = i;
        segmentBase = slice.dat.size;
      }
      if (cache && i > runIndex && (i === segmentIndex || seq !== msgs[i - 1]!.sequence + 1)) {
        this.cache.add(cachedRun(msgs[runIndex]!.sequence, buffer, starts.subarray(runIndex, i)));
        runIndex = i;
      }
      slice.push(seq, segmentBase + (start - starts[segmentIndex]!), size, msg.timestamp);
      this.unindexed.add(slice);
      if (this.msgs === 0) this.first = seq;
      this.last = seq;
      this.msgs++;
      this.bytes += size;
    }
    if (segmentSlice !== undefined) segmentSlice.dat.append(buffer.subarray(starts[segmentIndex]!));
    if (cache) this.cache.add(cachedRun(msgs[runIndex]!.sequence, buffer, starts.subarray(runIndex)));
  }

  /** The slice `seq` goes to: a new one when limits say so or a sequence gap starts. */
  private writeSlice(seq: number, timestamp: bigint): Slice {
    const current = this.slices[this.slices.length - 1];
    if (current !== undefined && !this.sliceFull(current, seq, timestamp)) return current;
    const slice = createSlice(this.context.dir, (current?.number ?? 0) + 1, this.context);
    this.slices.push(slice);
    const previousDirSync = this.dirSync;
    this.dirSync = observed(Promise.all([previousDirSync, this.context.io.syncDir(this.context.dir)]).then(() => undefined));
    // An emptied slice left alone only to keep the last sequence goes once a newer one exists.
    if (current !== undefined && current.liveCount === 0 && this.slices.length === 2) this.dropFirstSlice();
    return slice;
  }

  private sliceFull(slice: Slice, seq: number, timestamp: bigint): boolean {
    if (slice.count === 0) return false;
    if (seq !== slice.lastSeq + 1) return true;
    const { options } = this.context;
    let { sliceMaxMsgs, sliceMaxBytes, sliceMaxAgeMs } = options;
    if (sliceMaxMsgs === 0 && sliceMaxBytes === 0 && sliceMaxAgeMs === 0) {
      const limits = this.context.limits();
      if (limits.maxMsgs > 0) sliceMaxMsgs = Math.max(1, Math.floor(limits.maxMsgs / 4));
      if (limits.maxBytes > 0) sliceMaxBytes = Math.max(1, Math.floor(limits.maxBytes / 4));
      if (limits.maxAgeMs > 0) sliceMaxAgeMs = Math.max(1000, Math.floor(limits.maxAgeMs / 4));
    }
    if (sliceMaxMsgs > 0 && slice.count >= sliceMaxMsgs) return true;
    if (sliceMaxBytes > 0 && slice.writtenBytes >= sliceMaxBytes) return true;
    return sliceMaxAgeMs > 0 && timestamp - slice.timestamps[0]! >= BigInt(sliceMaxAgeMs) * 1_000_000n;
  }

  private enforceCountLimits(report = true): void {
    const { maxMsgs, maxBytes } = this.context.limits();
    if (maxMsgs > 0) {
      while (this.msgs > maxMsgs) this.removeFirst(report ? 'msgs' : undefined);
    }
    if (maxBytes > 0) {
      // The last message is always kept, even when it alone exceeds max_bytes.
      while (this.bytes > maxBytes && this.msgs > 1) this.removeFirst(report ? 'bytes' : undefined);
    }
  }

  private reportLimit(reason: LimitReason): void {
    if (this.limitHit.has(reason)) return;
    this.limitHit.add(reason);
    this.context.onLimitReached?.(this.context.channel, reason);
  }

  /** Drops the first live message; deletes its slice once empty unless it is the last one. */
  private removeFirst(reason: LimitReason | undefined): void {
    if (reason !== undefined) this.reportLimit(reason);
    const slice = this.slices.find((s) => s.liveCount > 0)!;
    const k = slice.removed;
    slice.removed++;
    const size = slice.sizes[k]!;
    slice.liveBytes -= size;
    this.bytes -= size;
    this.msgs--;
    this.first = this.msgs === 0 ? this.last + 1 : this.nextLiveSeq();
    this.cache.dropBefore(this.first);
    while (this.slices.length > 1 && this.slices[0]!.liveCount === 0) this.dropFirstSlice();
  }

  private nextLiveSeq(): number {
    const slice = this.slices.find((s) => s.liveCount > 0);
    return slice === undefined ? this.last + 1 : slice.firstSeq + slice.removed;
  }

  /**
   * Drops the oldest slice from memory now, and from disk only after a commit round made the
   * newer messages that pushed it out durable: were the unlink durable first, a power failure
   * could leave a channel without those messages and without the older ones, its sequence lost.
   */
  private dropFirstSlice(): void {
    const slice = this.slices.shift()!;
    slice.dropped = true;
    this.idxToSync.delete(slice);
    this.unindexed.delete(slice);
    this.discarded.push(slice);
    if (!this.context.options.sync) this.discardDropped(this.discarded.length);
    else observed(this.commit.request());
  }

  private discardDropped(count: number): void {
    for (const slice of this.discarded.splice(0, count)) this.context.discardSlice(slice);
  }

  dropBefore(seq: number): number {
    this.checkOpen();
    let dropped = 0;
    while (this.msgs > 0 && this.first < seq) {
      this.removeFirst(undefined);
      dropped++;
    }
    return dropped;
  }

  expireAged(nowNs: bigint): number {
    this.checkOpen();
    const { maxAgeMs } = this.context.limits();
    if (maxAgeMs <= 0) return 0;
    const cutoff = nowNs - BigInt(maxAgeMs) * 1_000_000n;
    let dropped = 0;
    while (this.msgs > 0) {
      const slice = this.slices.find((s) => s.liveCount > 0)!;
      if (slice.timestamps[slice.removed]! > cutoff) break;
      this.removeFirst('age');
      dropped++;
    }
    this.scheduleExpiry();
    return dropped;
  }

  private scheduleExpiry(): void {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const { maxAgeMs } = this.context.limits();
    if (!this.context.expireOnTimer || maxAgeMs <= 0 || this.msgs === 0 || this.closed) return;
    const slice = this.slices.find((s) => s.liveCount > 0)!;
    const dueNs = slice.timestamps[slice.removed]! + BigInt(maxAgeMs) * 1_000_000n;
    const waitMs = Number((dueNs - this.context.nowNs()) / 1_000_000n);
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      if (!this.closed && this.failure === undefined) this.expireAged(this.context.nowNs());
    }, Math.min(Math.max(waitMs + 1, 1), 2_147_483_647));
    this.expiryTimer.unref();
  }

  lookupSync(seq: number): MsgProto | undefined | NotLoaded {
    this.checkOpen();
    if (!Number.isSafeInteger(seq) || seq < this.first || seq > this.last || this.msgs === 0) return undefined;
    const run = this.cache.find(seq);
    if (run !== undefined) return decodeMsgProto(run.payload(seq), false);
    const slice = this.sliceOf(seq);
    if (slice === undefined) return undefined;
    const k = seq - slice.firstSeq;
    if (k < slice.removed) return undefined;
    return this.readRecord(slice, k);
  }

  /**
   * The message as stored (MsgProto bytes, what a first delivery sends), from the cache; a
   * message behind the cache is read from the disk with those after it (read-ahead), since a
   * subscriber that far behind asks for them next. A view: the caller must not change it.
   */
  lookupEncodedSync(seq: number): Uint8Array | undefined {
    this.checkOpen();
    if (!Number.isSafeInteger(seq) || seq < this.first || seq > this.last || this.msgs === 0) return undefined;
    const run = this.cache.find(seq);
    if (run !== undefined) return run.payload(seq);
    const slice = this.sliceOf(seq);
    if (slice === undefined) return undefined;
    const k = seq - slice.firstSeq;
    if (k < slice.removed) return undefined;
    slice.unpark(this.context.io, this.context.bufferBytes);
    // A quarter of the budget at most, so that read-ahead does not evict itself or the newest messages.
    const bytesMax = Math.min(READAHEAD_BYTES_MAX, Math.floor(this.context.cacheBudget.bytesMax / 4));
    const readahead = readRun(slice, k, bytesMax, this.context.checkCrc ? this.context.crc : undefined);
    if (this.context.options.fdsLimit > 0 && this.idle(slice)) slice.park();
    // Taken before the run is admitted: a budget smaller than the run evicts it at once.
    const payload = readahead.payload(seq);
    this.cache.setReadahead(readahead);
    return payload;
  }

  private sliceOf(seq: number): Slice | undefined {
    let low = 0;
    let high = this.slices.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const slice = this.slices[mid]!;
      if (seq < slice.firstSeq) high = mid - 1;
      else if (seq > slice.lastSeq) low = mid + 1;
      else return slice.count > 0 ? slice : undefined;
    }
    return undefined;
  }

  private readRecord(slice: Slice, k: number): MsgProto {
    slice.unpark(this.context.io, this.context.bufferBytes);
    const msg = readMessage(slice, k, this.context.checkCrc ? this.context.crc : undefined);
    if (this.context.options.fdsLimit > 0 && this.idle(slice)) slice.park();
    return msg;
  }

  lookup(seq: number): Promise<MsgProto | undefined> {
    try {
      const msg = this.lookupSync(seq);
      return Promise.resolve(typeof msg === 'symbol' ? undefined : msg);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  firstSequence(): number {
    return this.first;
  }

  lastSequence(): number {
    return this.last;
  }

  sequenceFromTimestamp(timestampNs: bigint): Promise<number> {
    for (const slice of this.slices) {
      if (slice.liveCount === 0 || slice.timestamps[slice.count - 1]! < timestampNs) continue;
      let low = slice.removed;
      let high = slice.count - 1;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (slice.timestamps[mid]! >= timestampNs) high = mid;
        else low = mid + 1;
      }
      return Promise.resolve(slice.firstSeq + low);
    }
    return Promise.resolve(this.last + 1);
  }

  firstMsg(): Promise<MsgProto | undefined> {
    return this.msgs === 0 ? Promise.resolve(undefined) : this.lookup(this.first);
  }

  lastMsg(): Promise<MsgProto | undefined> {
    return this.msgs === 0 ? Promise.resolve(undefined) : this.lookup(this.last);
  }

  state(): MsgStoreState {
    return { msgs: this.msgs, bytes: this.bytes };
  }

  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (!this.context.options.sync) {
      try {
        // Without fsync no index entry is written before close: an entry must vouch for a
        // durable record, and an index left behind by a crash is rebuilt from the data file.
        for (const slice of this.unindexed) slice.dat.writeOut();
      } catch (error) {
        return Promise.reject(this.fail(error));
      }
      return Promise.resolve();
    }
    return this.commit.request();
  }


  sync(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.commit.request();
  }

  /** Appends index entries up to the given counts (records already durable, or no-sync mode). */
  private writeIndexes(upTo: ReadonlyArray<readonly [Slice, number]>): void {
    for (const [slice, count] of upTo) {
      if (slice.dropped) continue;
      const entries = slice.takeUnindexed(this.context.crc, Math.min(count, slice.count));
      if (slice.indexed === slice.count) this.unindexed.delete(slice);
      if (entries === undefined) continue;
      slice.idx.append(entries);
      slice.idx.writeOut();
      this.idxToSync.add(slice);
    }
  }

  private async round(): Promise<void> {
    const droppedBefore = this.discarded.length;
    try {
      const covered = [...this.unindexed].map((s) => [s, s.count] as const);
      for (const [slice] of covered) slice.dat.writeOut();
      const dirSync = this.dirSync;
      this.dirSync = undefined;
      // The index is never needed for durability (recovery rebuilds what it lacks from the data
      // file), so only finished slices get their index fsynced here; the written slice's at close.
      const writing = this.slices[this.slices.length - 1];
      const idxSyncs: Array<Promise<void>> = [];
      for (const slice of this.idxToSync) {
        if (slice === writing) continue;
        idxSyncs.push(slice.idx.handle.sync());
        this.idxToSync.delete(slice);
      }
      const datSyncs = covered.map(([s]) => s.dat.handle.sync());
      await Promise.all([...datSyncs, ...idxSyncs, dirSync]);
      this.writeIndexes(covered);
      if (this.context.options.fdsLimit > 0) this.parkIdleSlices();
      this.discardDropped(droppedBefore);
    } catch (error) {
      throw this.fail(error);
    }
  }

  /** A slice with nothing left to write or sync, and not the one being written. */
  private idle(slice: Slice): boolean {
    return slice !== this.slices[this.slices.length - 1] && !this.unindexed.has(slice) && !this.idxToSync.has(slice);
  }

  /**
   * file_fds_limit: only the slice being written keeps its files open; older slices are closed
   * once their last writes are durable and reopened briefly when a message is read from them.
   */
  private parkIdleSlices(): void {
    for (const slice of this.slices) if (!slice.parked && this.idle(slice)) slice.park();
  }

  private fail(error: unknown): Error {
    this.failure ??= error instanceof StoreIoError ? error : new StoreIoError(`channel ${this.context.channel}: write or fsync failed`, { cause: error });
    return this.failure;
  }

  private checkOpen(): void {
    if (this.closed) throw new TstanError(StoreErrorCode.Closed, 'store is closed');
    if (this.failure !== undefined) throw this.failure;
  }

  /** Makes everything durable (data, then index), then closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    try {
      if (this.failure === undefined) {
        if (this.context.options.sync) await this.commit.request();
        const covered = [...this.unindexed].map((s) => [s, s.count] as const);
        for (const [slice] of covered) slice.dat.writeOut();
        await Promise.all([...covered.map(([s]) => s.dat.handle.sync()), this.dirSync]);
        this.writeIndexes(covered);
        await Promise.all([...this.idxToSync].map((s) => s.idx.handle.sync()));
        this.discardDropped(this.discarded.length);
      }
    } finally {
      this.closed = true;
      this.cache.clear();
      for (const slice of [...this.slices, ...this.discarded]) slice.close();
    }
  }
}
