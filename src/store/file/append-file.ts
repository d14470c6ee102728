// An append-only file with group commit: records gathered during an event-loop turn go to the
// file in one write, and every caller waiting for durability shares one fsync. After a failed
// fsync the file refuses further work: a later fsync that succeeds proves nothing (fsyncgate).
import type { FileHandle } from './io.js';
import { StoreIoError } from './errors.js';

/**
 * Marks a Promise as watched so a rejection nobody awaits yet (a directory fsync in no-sync mode)
 * does not crash the process; whoever awaits it later still sees the rejection.
 */
export function observed<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Runs `round` back-to-back; callers arriving before or during a round share the next one. */
export class GroupCommit {
  private busy = false;
  /** The round scheduled on a microtask that has not begun yet: late callers join it. */
  private scheduled: Promise<void> | undefined;
  private queued: Deferred | undefined;

  constructor(private readonly round: () => Promise<void>) {}

  request(): Promise<void> {
    if (this.scheduled !== undefined) return this.scheduled;
    if (!this.busy) return this.start();
    this.queued ??= deferred();
    return this.queued.promise;
  }

  private start(): Promise<void> {
    this.busy = true;
    // Start on a microtask: every batch stored in the same synchronous run of the event loop
    // (one per channel and turn from the server, or several from a caller) shares this round.
    const run = Promise.resolve().then(() => {
      this.scheduled = undefined;
      return this.round();
    });
    this.scheduled = run;
    const after = (): void => {
      this.busy = false;
      const next = this.queued;
      this.queued = undefined;
      if (next !== undefined) this.start().then(next.resolve, next.reject);
    };
    run.then(after, after);
    return run;
  }
}

export class AppendFile {
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private failure: Error | undefined;
  private readonly commit: GroupCommit;
  /** Logical size: what is on file plus what waits in memory. */
  private logicalSize: number;
  /** Extra work run before each fsync (the directory sync of a new file). */
  beforeSync: (() => Promise<void>) | undefined;

  constructor(
    readonly handle: FileHandle,
    private readonly bufferBytesMax: number,
  ) {
    this.logicalSize = handle.size();
    this.commit = new GroupCommit(() => this.syncRound());
  }

  get size(): number {
    return this.logicalSize;
  }

  get path(): string {
    return this.handle.path;
  }

  /** Queues bytes at the end of the file; returns the offset they will have. */
  append(data: Buffer): number {
    this.check();
    const offset = this.logicalSize;
    this.chunks.push(data);
    this.chunkBytes += data.length;
    this.logicalSize += data.length;
    if (this.chunkBytes >= this.bufferBytesMax) this.writeOut();
    return offset;
  }

  /** Hands queued bytes to the file (page cache), without waiting for the disk. */
  writeOut(): void {
    this.check();
    if (this.chunkBytes === 0) return;
    const chunks = this.chunks;
    const position = this.logicalSize - this.chunkBytes;
    this.chunks = [];
    this.chunkBytes = 0;
    try {
      // Several chunks go in one vectored write when the disk can: no copy of a round's data.
      if (chunks.length === 1) this.handle.writeAt(position, chunks[0]!);
      else if (this.handle.writeChunksAt !== undefined) this.handle.writeChunksAt(position, chunks);
      else this.handle.writeAt(position, Buffer.concat(chunks));
    } catch (error) {
      this.fail(error);
    }
  }

  /** Writes out what is queued and, with `sync`, waits until it is durable. */
  flush(sync: boolean): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (!sync) {
      this.writeOut();
      return Promise.resolve();
    }
    return this.commit.request();
  }

  /** Reads bytes that may still be queued in memory. */
  read(position: number, length: number): Buffer {
    const onFile = this.logicalSize - this.chunkBytes;
    if (position + length <= onFile) return this.handle.read(position, length);
    this.writeOut();
    return this.handle.read(position, length);
  }

  truncate(length: number): void {
    this.writeOut();
    this.handle.truncate(length);
    this.logicalSize = length;
  }

  close(): void {
    this.handle.close();
  }

  private async syncRound(): Promise<void> {
    this.writeOut();
    try {
      if (this.beforeSync !== undefined) {
        const before = this.beforeSync;
        this.beforeSync = undefined;
        await before();
      }
      await this.handle.sync();
    } catch (error) {
      this.fail(error);
    }
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private fail(error: unknown): never {
    this.failure ??= new StoreIoError(`write or fsync failed on ${this.handle.path}`, { cause: error });
    throw this.failure;
  }
}
