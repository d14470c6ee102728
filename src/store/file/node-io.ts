// FileIo on node:fs: synchronous reads and writes, fsync on the libuv pool. The directory lock is
// a lock file holding the owner's pid: Node has no flock, and a pid that is no longer alive marks
// a lock left behind by a killed server, which is taken over.
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { DirEntry, DirLock, FileHandle, FileIo } from './io.js';
import { StoreLockedError } from './errors.js';
import type { DurabilityReporter } from '../durability.js';

class NodeFileHandle implements FileHandle {
  private fd: number;
  private length: number;

  constructor(
    readonly path: string,
    fd: number,
    private readonly durability: DurabilityReporter | undefined,
  ) {
    this.fd = fd;
    this.length = fs.fstatSync(fd).size;
  }

  size(): number {
    return this.length;
  }

  read(position: number, length: number): Buffer {
    const wanted = Math.max(0, Math.min(length, this.length - position));
    const buffer = Buffer.allocUnsafe(wanted);
    let done = 0;
    while (done < wanted) {
      const n = fs.readSync(this.fd, buffer, done, wanted - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done === wanted ? buffer : buffer.subarray(0, done);
  }

  writeAt(position: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      done += fs.writeSync(this.fd, data, done, data.length - done, position + done);
    }
    this.length = Math.max(this.length, position + data.length);
  }

  writeChunksAt(position: number, chunks: readonly Uint8Array[]): void {
    let total = 0;
    for (const chunk of chunks) total += chunk.length;
    let done = fs.writevSync(this.fd, chunks as Uint8Array[], position);
    // A short write (rare: a signal, a full disk) finishes chunk by chunk.
    if (done < total) {
      let offset = 0;
      for (const chunk of chunks) {
        const end = offset + chunk.length;
        if (end > done) this.writeAt(position + Math.max(offset, done), chunk.subarray(Math.max(0, done - offset)));
        offset = end;
      }
      done = total;
    }
    this.length = Math.max(this.length, position + total);
  }

  append(data: Uint8Array): void {
    this.writeAt(this.length, data);
  }

  truncate(length: number): void {
    fs.ftruncateSync(this.fd, length);
    this.length = length;
  }

  sync(): Promise<void> {
    const fd = this.fd;
    // What was written before the call is what the fsync covers.
    const length = this.length;
    return new Promise((resolve, reject) => {
      fs.fdatasync(fd, (error) => {
        if (error) return reject(error);
        this.durability?.synced(this.path, length);
        resolve();
      });
    });
  }

  syncBlocking(): void {
    fs.fdatasyncSync(this.fd);
    this.durability?.synced(this.path, this.length);
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class NodeFileIo implements FileIo {
  /** `durability`: a test hook told of every completed fsync and rename (src/store/durability.ts). */
  constructor(private readonly durability?: DurabilityReporter) {}

  open(path: string, options: { create: boolean }): FileHandle {
    const flags = options.create ? fs.constants.O_RDWR | fs.constants.O_CREAT : fs.constants.O_RDWR;
    return new NodeFileHandle(path, fs.openSync(path, flags, 0o644), this.durability);
  }

  exists(path: string): boolean {
    return fs.existsSync(path);
  }

  mkdir(path: string): void {
    fs.mkdirSync(path, { recursive: true });
  }

  readdir(path: string): DirEntry[] {
    return fs
      .readdirSync(path, { withFileTypes: true })
      .map((entry) => ({ name: entry.name, isDirectory: entry.isDirectory() }));
  }

  rename(from: string, to: string): void {
    fs.renameSync(from, to);
    this.durability?.renamed(from, to);
  }

  unlink(path: string): void {
    fs.rmSync(path, { force: true });
  }

  removeDir(path: string): void {
    fs.rmSync(path, { recursive: true, force: true });
  }

  syncDir(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.open(path, 'r', (openError, fd) => {
        if (openError) return reject(openError);
        fs.fsync(fd, (syncError) => {
          fs.close(fd, () => (syncError ? reject(syncError) : resolve()));
        });
      });
    });
  }

  lock(path: string): DirLock {
    const token = `${process.pid} ${hostname()} ${randomBytes(8).toString('hex')}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.writeFileSync(path, token, { flag: 'wx' });
        return { release: () => releaseLock(path, token) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readHolder(path);
      if (holder !== undefined && holder.host === hostname() && processAlive(holder.pid)) {
        throw new StoreLockedError(`data directory is locked by process ${holder.pid} (${path})`);
      }
      // Left behind by a process that is gone (or written by another server that never records
      // a pid, such as the reference server): take it over.
      fs.rmSync(path, { force: true });
    }
    throw new StoreLockedError(`could not take the lock file ${path}`);
  }
}

function readHolder(path: string): { pid: number; host: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, host] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || host === undefined) return undefined;
  return { pid, host };
}

function releaseLock(path: string, token: string): void {
  try {
    if (fs.readFileSync(path, 'utf8') === token) fs.rmSync(path, { force: true });
  } catch {
    // Already gone: nothing to give back.
  }
}
