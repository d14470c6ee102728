// A node's data on a small filesystem of its own, for the disk-full scenarios: a tmpfs of a given
// size mounted by the harness on a directory it made (we run as root; nothing else is mounted or
// touched). fill() takes all but a few bytes with a filler file so that the node's own writes,
// under load, run out of space; free() removes the filler ("space returns"). unmountAll() copies
// what the filesystem holds back onto the real disk (a failed run keeps its data for inspection)
// and unmounts; it also runs if the harness process exits or is ended by a signal.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, openSync, closeSync, rmSync, writeSync, renameSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const FILLER = '.filler';
const CHUNK_BYTES = 1024 * 1024;

export class SmallDisks {
  private readonly mounted = new Set<string>();
  private readonly onExit = () => this.unmountAllNow(false);
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.unmountAllNow(false);
    process.kill(process.pid, signal);
  };

  /** Mounts a tmpfs of `bytes` on `dir` (which must exist and be empty). */
  mount(dir: string, bytes: number): void {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tstan-chaos-disk', dir], { stdio: 'pipe' });
    if (this.mounted.size === 0) {
      process.once('exit', this.onExit);
      process.once('SIGINT', this.onSignal);
      process.once('SIGTERM', this.onSignal);
    }
    this.mounted.add(dir);
  }

  isMounted(dir: string): boolean {
    return this.mounted.has(dir);
  }

  /** Free bytes on the filesystem of `dir`, as df sees them. */
  freeBytes(dir: string): number {
    const out = execFileSync('df', ['-B1', '--output=avail', dir], { encoding: 'utf8' });
    return Number(out.trim().split('\n').pop());
  }

  /** Writes a filler file until only about `leaveBytes` are free; returns the filler's size. */
  fill(dir: string, leaveBytes: number): number {
    const fd = openSync(join(dir, FILLER), 'a');
    let written = 0;
    try {
      const chunk = Buffer.alloc(CHUNK_BYTES, 0x5a);
      for (;;) {
        const room = this.freeBytes(dir) - leaveBytes;
        if (room <= 0) break;
        written += writeSync(fd, chunk, 0, Math.min(room, CHUNK_BYTES));
      }
    } finally {
      closeSync(fd);
    }
    return written;
  }

  /** Removes the filler: space returns. */
  free(dir: string): void {
    rmSync(join(dir, FILLER), { force: true });
  }

  /** Copies each filesystem's content (less the filler) onto the real disk in its place, then unmounts. */
  unmountAll(): void {
    this.unmountAllNow(true);
  }

  private unmountAllNow(keepContent: boolean): void {
    for (const dir of [...this.mounted]) {
      let copy: string | undefined;
      try {
        if (keepContent) {
          this.free(dir);
          copy = mkdtempSync(join(dirname(dir), '.disk-copy-'));
          cpSync(dir, copy, { recursive: true });
        }
      } catch {
        copy = undefined;
      }
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        // Busy (a process still holds a file): detach it now, it goes when released.
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      }
      this.mounted.delete(dir);
      if (copy !== undefined) {
        for (const name of readdirSync(copy)) renameSync(join(copy, name), join(dir, name));
        rmSync(copy, { recursive: true, force: true });
      }
    }
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}
