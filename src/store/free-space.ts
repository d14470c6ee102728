// Free space on the filesystems holding a node's data, checked before it starts: a node that
// would fail its first write for lack of space refuses at once, with the disk-full line and exit
// code (src/util/disk-full.ts), instead of joining its cluster and stopping again a moment later.
import { statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DiskFullErrno, DiskFullError } from '../util/disk-full.js';

/** Below this much free space on a filesystem holding its data a node does not start. */
export const START_FREE_BYTES_MIN = 8 * 1024 * 1024;

/** Free bytes for an unprivileged writer on the filesystem holding `path` (or its nearest existing parent). */
export function freeBytesAt(path: string): number {
  let current = resolve(path);
  for (;;) {
    try {
      const stats = statfsSync(current);
      return stats.bavail * stats.bsize;
    } catch (error) {
      const parent = dirname(current);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) throw error;
      current = parent;
    }
  }
}

/** Throws DiskFullError when a filesystem holding one of `paths` has less than `bytesMin` free. */
export function checkFreeSpace(paths: readonly string[], bytesMin = START_FREE_BYTES_MIN): void {
  for (const path of paths) {
    const free = freeBytesAt(path);
    if (free < bytesMin) {
      throw new DiskFullError(
        DiskFullErrno.noSpace,
        path,
        `on the filesystem of ${path}: ${formatBytes(free)} free, at least ${formatBytes(bytesMin)} needed to start; free some space and start again`,
      );
    }
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
