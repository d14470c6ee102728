// A simulated disk for crash tests. It keeps, per file, what was last fsynced and the writes
// since; per directory, the entries as of its last fsync. `powerFail` throws away what was never
// made durable: directory entries roll back to their last synced state and each file keeps its
// synced content plus a random prefix of its later writes, the last one possibly torn.
import { posix } from 'node:path';
import type { DirEntry, DirLock, FileHandle, FileIo } from './io.js';
import { StoreLockedError } from './errors.js';

type PendingOp =
  | { readonly type: 'write'; readonly position: number; readonly data: Buffer }
  | { readonly type: 'truncate'; readonly length: number };

interface Inode {
  data: Buffer;
  length: number;
  synced: Buffer;
  /** Writes and truncations since the last completed fsync, each with its number. */
  pending: Array<{ readonly n: number; readonly op: PendingOp }>;
  ops: number;
}

type Entry = { readonly kind: 'file'; readonly inode: Inode } | { readonly kind: 'dir' };

function applyOp(inode: Inode, op: PendingOp): void {
  if (op.type === 'truncate') {
    if (op.length > inode.data.length) grow(inode, op.length);
    inode.data.fill(0, Math.min(op.length, inode.length), inode.length);
    inode.length = op.length;
    return;
  }
  const end = op.position + op.data.length;
  if (end > inode.data.length) grow(inode, end);
  if (op.position > inode.length) inode.data.fill(0, inode.length, op.position);
  op.data.copy(inode.data, op.position);
  inode.length = Math.max(inode.length, end);
}

function grow(inode: Inode, needed: number): void {
  const next = Buffer.alloc(Math.max(needed, inode.data.length * 2, 64));
  inode.data.copy(next, 0, 0, inode.length);
  inode.data = next;
}

/** Path -> entry, with each directory's children indexed so listing and syncing stay cheap. */
class Tree {
  readonly entries = new Map<string, Entry>();
  private readonly children = new Map<string, Set<string>>();

  static from(other: Tree): Tree {
    const tree = new Tree();
    for (const [path, entry] of other.entries) tree.set(path, entry);
    return tree;
  }

  get(path: string): Entry | undefined {
    return this.entries.get(path);
  }

  set(path: string, entry: Entry): void {
    this.entries.set(path, entry);
    if (path === '/') return;
    const parent = posix.dirname(path);
    let kids = this.children.get(parent);
    if (kids === undefined) this.children.set(parent, (kids = new Set()));
    kids.add(path);
  }

  delete(path: string): void {
    if (!this.entries.delete(path)) return;
    this.children.get(posix.dirname(path))?.delete(path);
  }

  childrenOf(dir: string): string[] {
    return [...(this.children.get(dir) ?? [])];
  }
}

export interface SimDiskStats {
  fileSyncs: number;
  dirSyncs: number;
}

export class SimDisk implements FileIo {
  private entries = new Tree();
  private durable = new Tree();
  private locks = new Set<string>();
  /** Per directory, the children created, renamed or removed since its last fsync. */
  private dirty = new Map<string, Set<string>>();
  private generation = 0;
  readonly stats: SimDiskStats = { fileSyncs: 0, dirSyncs: 0 };

  constructor() {
    this.entries.set('/', { kind: 'dir' });
    this.durable.set('/', { kind: 'dir' });
  }

  /** Drops everything not durable. `random` returns numbers in [0, 1) (seeded by the test). */
  powerFail(random: () => number): void {
    this.generation++;
    this.locks.clear();
    this.entries = Tree.from(this.durable);
    this.dirty.clear();
    const seen = new Set<Inode>();
    for (const entry of this.entries.entries.values()) {
      if (entry.kind !== 'file' || seen.has(entry.inode)) continue;
      seen.add(entry.inode);
      const inode = entry.inode;
      const keep = Math.floor(random() * (inode.pending.length + 1));
      const survivors = inode.pending.slice(0, keep);
      const torn = inode.pending[keep];
      inode.data = Buffer.from(inode.synced);
      inode.length = inode.synced.length;
      for (const { op } of survivors) applyOp(inode, op);
      if (torn?.op.type === 'write' && random() < 0.5) {
        const cut = Math.floor(random() * torn.op.data.length);
        applyOp(inode, { type: 'write', position: torn.op.position, data: torn.op.data.subarray(0, cut) });
      }
      inode.synced = Buffer.from(inode.data.subarray(0, inode.length));
      inode.pending = [];
    }
  }

  /** Reads a whole file (for tests that inspect or damage bytes). */
  readFile(path: string): Buffer {
    const inode = this.inode(path);
    return Buffer.from(inode.data.subarray(0, inode.length));
  }

  /** Replaces a file's content durably (for tests that damage bytes on a stopped store). */
  writeFile(path: string, data: Uint8Array): void {
    const inode = this.inode(path);
    inode.data = Buffer.from(data);
    inode.length = data.length;
    inode.synced = Buffer.from(data);
    inode.pending = [];
  }


  open(path: string, options: { create: boolean }): FileHandle {
    const name = posix.normalize(path);
    let entry = this.entries.get(name);
    if (entry === undefined) {
      if (!options.create) throw enoent(name);
      this.parentDir(name);
      entry = { kind: 'file', inode: { data: Buffer.alloc(0), length: 0, synced: Buffer.alloc(0), pending: [], ops: 0 } };
      this.changed(name);
      this.entries.set(name, entry);
    }
    if (entry.kind !== 'file') throw new Error(`EISDIR: ${name}`);
    return this.handle(name, entry.inode);
  }

  exists(path: string): boolean {
    return this.entries.entries.has(posix.normalize(path));
  }

  mkdir(path: string): void {
    const name = posix.normalize(path);
    if (this.entries.get(name)?.kind === 'dir') return;
    if (this.entries.entries.has(name)) throw new Error(`EEXIST: ${name}`);
    const parent = posix.dirname(name);
    if (!this.entries.entries.has(parent)) this.mkdir(parent);
    this.changed(name);
    this.entries.set(name, { kind: 'dir' });
  }

  readdir(path: string): DirEntry[] {
    const name = posix.normalize(path);
    if (this.entries.get(name)?.kind !== 'dir') throw enoent(name);
    const result: DirEntry[] = this.entries
      .childrenOf(name)
      .map((child) => ({ name: posix.basename(child), isDirectory: this.entries.get(child)?.kind === 'dir' }));
    return result.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  rename(from: string, to: string): void {
    const source = posix.normalize(from);
    const entry = this.entries.get(source);
    if (entry === undefined) throw enoent(source);
    this.parentDir(posix.normalize(to));
    this.changed(source);
    this.changed(posix.normalize(to));
    this.entries.delete(source);
    this.entries.set(posix.normalize(to), entry);
  }

  unlink(path: string): void {
    this.changed(posix.normalize(path));
    this.entries.delete(posix.normalize(path));
  }

  removeDir(path: string): void {
    const name = posix.normalize(path);
    for (const child of this.entries.childrenOf(name)) this.removeDir(child);
    this.changed(name);
    this.entries.delete(name);
  }

  /**
   * Like a real fsync of a directory, completes later (next macrotask): the entries as they were
   * at the call become durable then, unless a power failure struck first.
   */
  syncDir(path: string): Promise<void> {
    const name = posix.normalize(path);
    this.stats.dirSyncs++;
    const changes = [...(this.dirty.get(name) ?? [])].map((child) => [child, this.entries.get(child)] as const);
    this.dirty.delete(name);
    const generation = this.generation;
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        if (generation !== this.generation) return reject(new Error(`EIO: power failure during fsync of ${name}`));
        const forget = (target: string): void => {
          for (const child of this.durable.childrenOf(target)) forget(child);
          this.durable.delete(target);
        };
        for (const [child, entry] of changes) {
          if (entry !== this.durable.get(child)) forget(child);
          if (entry !== undefined) this.durable.set(child, entry);
        }
        resolve();
      });
    });
  }

  lock(path: string): DirLock {
    const name = posix.normalize(path);
    if (this.locks.has(name)) throw new StoreLockedError(`data directory is locked (${name})`);
    this.locks.add(name);
    const generation = this.generation;
    return { release: () => (generation === this.generation ? this.locks.delete(name) : undefined) };
  }

  private changed(path: string): void {
    const parent = posix.dirname(path);
    let set = this.dirty.get(parent);
    if (set === undefined) this.dirty.set(parent, (set = new Set()));
    set.add(path);
  }

  private inode(path: string): Inode {
    const entry = this.entries.get(posix.normalize(path));
    if (entry?.kind !== 'file') throw enoent(path);
    return entry.inode;
  }

  private parentDir(name: string): void {
    if (this.entries.get(posix.dirname(name))?.kind !== 'dir') throw enoent(posix.dirname(name));
  }

  private handle(path: string, inode: Inode): FileHandle {
    const generation = this.generation;
    const disk = this;
    const live = (): void => {
      if (generation !== disk.generation) throw new Error(`EIO: ${path} (handle from before a power failure)`);
    };
    const record = (op: PendingOp): void => {
      live();
      applyOp(inode, op);
      inode.pending.push({ n: ++inode.ops, op });
    };
    const syncNow = (): void => {
      live();
      disk.stats.fileSyncs++;
      inode.synced = Buffer.from(inode.data.subarray(0, inode.length));
      inode.pending = [];
    };
    // Completes on a later macrotask with what was written before the call; a power failure
    // in between leaves the file as it was.
    const syncLater = (): Promise<void> => {
      live();
      disk.stats.fileSyncs++;
      const snapshot = Buffer.from(inode.data.subarray(0, inode.length));
      const upTo = inode.ops;
      return new Promise((resolve, reject) => {
        setImmediate(() => {
          if (generation !== disk.generation) return reject(new Error(`EIO: power failure during fsync of ${path}`));
          inode.synced = snapshot;
          inode.pending = inode.pending.filter((p) => p.n > upTo);
          resolve();
        });
      });
    };
    return {
      path,
      size: () => inode.length,
      read: (position, length) => {
        live();
        const end = Math.min(inode.length, position + length);
        return Buffer.from(inode.data.subarray(Math.min(position, end), end));
      },
      writeAt: (position, data) => record({ type: 'write', position, data: Buffer.from(data) }),
      append: (data) => record({ type: 'write', position: inode.length, data: Buffer.from(data) }),
      truncate: (length) => record({ type: 'truncate', length }),
      sync: syncLater,
      syncBlocking: () => syncNow(),
      close: () => undefined,
    };
  }
}

function enoent(path: string): Error {
  const error = new Error(`ENOENT: no such file or directory, ${path}`) as NodeJS.ErrnoException;
  error.code = 'ENOENT';
  return error;
}
