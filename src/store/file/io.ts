// The file I/O seam of the FILE store: everything the store does to a disk goes through these two
// interfaces, so tests can put a simulated disk under it that forgets what was never fsynced.
// Reads, writes and truncations are synchronous (page cache); fsyncs are asynchronous so the event
// loop keeps gathering the next batch while the disk flushes the previous one.

export interface FileHandle {
  readonly path: string;
  /** Current length in bytes, as this process sees it (not necessarily durable). */
  size(): number;
  /** Reads `length` bytes at `position`; fewer at end of file. */
  read(position: number, length: number): Buffer;
  /** Writes `data` at `position`, extending the file if needed. */
  writeAt(position: number, data: Uint8Array): void;
  /** Writes `chunks` one after the other from `position` (a disk that can: one call, no copy). */
  writeChunksAt?(position: number, chunks: readonly Uint8Array[]): void;
  /** Writes `data` at the current end of file. */
  append(data: Uint8Array): void;
  truncate(length: number): void;
  /** Resolves once everything written before the call is durable. */
  sync(): Promise<void>;
  /** fsync that blocks the caller: only for rare, whole-file rewrites (compaction). */
  syncBlocking(): void;
  close(): void;
}

export interface DirEntry {
  readonly name: string;
  readonly isDirectory: boolean;
}

/** An exclusive hold on a data directory; `release` gives it back. */
export interface DirLock {
  release(): void;
}

export interface FileIo {
  /** Opens a file for reading and writing; with `create` it is made when missing. */
  open(path: string, options: { create: boolean }): FileHandle;
  exists(path: string): boolean;
  /** Creates a directory and its missing parents. */
  mkdir(path: string): void;
  readdir(path: string): DirEntry[];
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** Removes a directory and everything in it. */
  removeDir(path: string): void;
  /** Makes the directory's entries (creations, renames, removals) durable. */
  syncDir(path: string): Promise<void>;
  /** Takes the lock file at `path`; throws StoreLockedError when another holder has it. */
  lock(path: string): DirLock;
}
