// Recent messages of a FILE store, kept in memory exactly as they were framed for the .dat files,
// so that delivering new messages (fan-out) and a short backlog never reads the disk. A stored
// batch is cached as runs of consecutive sequences that share the batch's one buffer: no object
// per message. One byte budget covers every channel of the store; when it is exceeded the runs
// stored first are evicted first, whatever their channel. A subscriber further behind than the
// cache reads from the disk, a block of records at a time (the channel's read-ahead run, also
// counted in the budget). With encryption at rest the wrapper takes the cache of stored messages
// over (FileStore.takeWriteCache) and keeps them in clear, in runs of this shape and this budget;
// the read-ahead of sealed records stays here.
import { RECORD_HEADER_SIZE } from './format.js';

/**
 * Bytes a run costs beyond its records: the run object, its offsets array (a Uint32Array view and
 * its own ArrayBuffer), the Buffer view and its ArrayBuffer, the native bookkeeping of each backing
 * store, the queue slots. Measured on Node 20 (x64) with runs of one small message each, as a
 * clustered node stores them (one Raft entry, one batch): ~530 B of V8 heap and ~1 KiB of RSS per
 * run. It was 160: a budget of 8 MiB then held some 40,000 such runs, ~40 MiB of RSS, which a
 * 3-node soak at 40 msg/s fills for about 25 minutes (the RSS "creep" of its long-lived nodes).
 */
export const RUN_OVERHEAD_BYTES = 1024;
/** The eviction queue is compacted once it holds this many runs that are already gone. */
const QUEUE_DEAD_MAX = 1024;

/** Consecutive sequences whose records lie in one buffer. */
export class CachedRun {
  /** Emptied when evicted, so that the queue's reference keeps no memory alive. */
  buffer: Buffer;
  dead = false;

  constructor(
    readonly firstSeq: number,
    readonly count: number,
    buffer: Buffer,
    /** Start of each record in `buffer` (its 8-byte header). */
    readonly starts: Uint32Array,
    /** What the run counts against the budget. */
    readonly bytes: number,
  ) {
    this.buffer = buffer;
  }

  get lastSeq(): number {
    return this.firstSeq + this.count - 1;
  }

  /** The MsgProto bytes of `seq` (which the run must hold): a view, never a copy. */
  payload(seq: number): Buffer {
    const start = this.starts[seq - this.firstSeq]!;
    const size = this.buffer.readUInt32LE(start);
    return this.buffer.subarray(start + RECORD_HEADER_SIZE, start + RECORD_HEADER_SIZE + size);
  }
}

/** Builds a run over `count` records of `buffer` starting at `starts[0]`. */
export function cachedRun(firstSeq: number, buffer: Buffer, starts: Uint32Array): CachedRun {
  const count = starts.length;
  const first = starts[0]!;
  const lastStart = starts[count - 1]!;
  const end = lastStart + RECORD_HEADER_SIZE + buffer.readUInt32LE(lastStart);
  return new CachedRun(firstSeq, count, buffer, starts, end - first + starts.byteLength + RUN_OVERHEAD_BYTES);
}

/** The store-wide byte budget, evicting the runs admitted first. */
export class MsgCacheBudget {
  /** Bytes of the live runs. */
  bytes = 0;
  private queue: CachedRun[] = [];
  private head = 0;
  private dead = 0;

  constructor(readonly bytesMax: number) {}

  /** Counts a new run, then evicts the oldest runs (possibly this one) until under the budget. */
  admit(run: CachedRun): void {
    this.queue.push(run);
    this.bytes += run.bytes;
    while (this.bytes > this.bytesMax && this.head < this.queue.length) {
      const oldest = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as CachedRun;
      if (oldest.dead) this.dead--;
      else this.kill(oldest);
    }
    if (this.head > 0 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** A run its channel no longer needs (limits dropped it, the channel closed). */
  release(run: CachedRun): void {
    if (run.dead) return;
    this.kill(run);
    this.dead++;
    if (this.dead > QUEUE_DEAD_MAX && this.dead * 2 > this.queue.length - this.head) {
      this.queue = this.queue.slice(this.head).filter((r) => !r.dead);
      this.head = 0;
      this.dead = 0;
    }
  }

  /** Runs waiting in the queue, dead or alive (for tests of the bound). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  private kill(run: CachedRun): void {
    run.dead = true;
    run.buffer = EMPTY;
    this.bytes -= run.bytes;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * One channel's runs in sequence order, and the read-ahead run. Runs stored later have higher
 * sequences and are admitted later, so the budget evicts a channel's runs from its front only.
 */
export class ChannelMsgCache {
  private runs: CachedRun[] = [];
  private head = 0;
  private readahead: CachedRun | undefined;

  constructor(private readonly budget: MsgCacheBudget) {}

  /** A run just stored (write-through); its sequences follow every cached one. */
  add(run: CachedRun): void {
    this.runs.push(run);
    this.budget.admit(run);
    this.trim();
  }

  /** Replaces the read-ahead run (records read back from the disk). */
  setReadahead(run: CachedRun): void {
    if (this.readahead !== undefined) this.budget.release(this.readahead);
    this.readahead = run;
    this.budget.admit(run);
  }

  /** The run holding `seq`, if cached. */
  find(seq: number): CachedRun | undefined {
    const readahead = this.readahead;
    if (readahead !== undefined && !readahead.dead && seq >= readahead.firstSeq && seq <= readahead.lastSeq) return readahead;
    this.trim();
    const runs = this.runs;
    let low = this.head;
    let high = runs.length - 1;
    if (low > high || seq < runs[low]!.firstSeq || seq > runs[high]!.lastSeq) return undefined;
    // Delivery asks mostly for the newest messages: try the last run before searching.
    if (seq >= runs[high]!.firstSeq) return runs[high];
    while (low <= high) {
      const mid = (low + high) >> 1;
      const run = runs[mid]!;
      if (seq < run.firstSeq) high = mid - 1;
      else if (seq > run.lastSeq) low = mid + 1;
      else return run.dead ? undefined : run;
    }
    return undefined;
  }

  /** Forgets every run wholly below `seq` (dropped by limits). */
  dropBefore(seq: number): void {
    while (this.head < this.runs.length && this.runs[this.head]!.lastSeq < seq) {
      this.budget.release(this.runs[this.head]!);
      this.runs[this.head++] = undefined as unknown as CachedRun;
    }
    if (this.readahead !== undefined && this.readahead.lastSeq < seq) {
      this.budget.release(this.readahead);
      this.readahead = undefined;
    }
    this.compact();
  }

  /** Forgets everything (the channel closes). */
  clear(): void {
    for (let i = this.head; i < this.runs.length; i++) this.budget.release(this.runs[i]!);
    if (this.readahead !== undefined) this.budget.release(this.readahead);
    this.runs = [];
    this.head = 0;
    this.readahead = undefined;
  }

  /** Runs evicted by the budget are always at the front. */
  private trim(): void {
    while (this.head < this.runs.length && this.runs[this.head]!.dead) this.runs[this.head++] = undefined as unknown as CachedRun;
    this.compact();
  }

  private compact(): void {
    if (this.head > 64 && this.head * 2 >= this.runs.length) {
      this.runs = this.runs.slice(this.head);
      this.head = 0;
    }
  }
}
