// Proves the disk-full classifier finds a full disk in both shapes it reaches us in (Node's fs
// errors and LevelDB's IO errors), through our own wrappers' causes, names the file the write was
// for, and leaves every other failure alone; and that the start-up check refuses below its floor.
import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { DiskFullError, findDiskFull } from '../../src/util/disk-full.js';
import { checkFreeSpace, freeBytesAt } from '../../src/store/free-space.js';
import { StoreIoError } from '../../src/store/file/errors.js';
import { TstanError } from '../../src/util/errors.js';

function errno(code: string, message: string, path?: string): Error {
  return Object.assign(new Error(message), { code, ...(path === undefined ? {} : { path }) });
}

describe('findDiskFull', () => {
  it('an fs error with its path', () => {
    expect(findDiskFull(errno('ENOSPC', 'ENOSPC: no space left on device, open', '/d/c0/msgs.2.dat'))).toEqual({ errno: 'ENOSPC', path: '/d/c0/msgs.2.dat' });
  });

  it('an fd write (no path) inside the FILE store wrapper that names the file', () => {
    const cause = errno('ENOSPC', 'ENOSPC: no space left on device, write');
    const wrapped = new StoreIoError('write or fsync failed on /d/c1/msgs.1.dat', { cause });
    expect(findDiskFull(wrapped)).toEqual({ errno: 'ENOSPC', path: '/d/c1/msgs.1.dat' });
  });

  it("LevelDB's IO error, also behind the Raft store's latch", () => {
    const level = Object.assign(new Error('IO error: /d/.raft/log/000003.log: No space left on device'), { code: 'LEVEL_IO_ERROR' });
    expect(findDiskFull(level)).toEqual({ errno: 'ENOSPC', path: '/d/.raft/log/000003.log' });
    const latched = new TstanError('RAFT_STORE_FAILED', 'an earlier raft store write failed', { cause: level });
    expect(findDiskFull(latched)?.path).toBe('/d/.raft/log/000003.log');
  });

  it('a quota', () => {
    expect(findDiskFull(errno('EDQUOT', 'EDQUOT: disk quota exceeded, write', '/d/x'))?.errno).toBe('EDQUOT');
  });

  it('other failures are not a full disk', () => {
    expect(findDiskFull(errno('EIO', 'EIO: i/o error, fsync', '/d/x'))).toBeUndefined();
    expect(findDiskFull(new Error('something else'))).toBeUndefined();
    expect(findDiskFull('ENOSPC')).toBeUndefined();
    expect(findDiskFull(undefined)).toBeUndefined();
  });

  it('a cycle of causes ends', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(findDiskFull(a)).toBeUndefined();
  });

  it('DiskFullError carries its errno and path, and says what happens next', () => {
    const error = DiskFullError.from({ errno: 'ENOSPC', path: '/d/f' }, undefined);
    expect(error.code).toBe('DISK_FULL');
    expect(error.message).toBe('disk full (ENOSPC) writing /d/f: the node stops; it starts again once space is freed');
    expect(findDiskFull(new Error('wrapped', { cause: error }))).toEqual({ errno: 'ENOSPC', path: '/d/f' });
  });
});

describe('checkFreeSpace', () => {
  it('measures from the nearest existing parent', () => {
    expect(freeBytesAt(`${tmpdir()}/does/not/exist/yet`)).toBeGreaterThan(0);
  });

  it('refuses below the floor with a DISK_FULL error naming the path and both amounts', () => {
    const path = tmpdir();
    expect(() => checkFreeSpace([path], Number.MAX_SAFE_INTEGER)).toThrow(DiskFullError);
    expect(() => checkFreeSpace([path], Number.MAX_SAFE_INTEGER)).toThrow(new RegExp(`^disk full \\(ENOSPC\\) on the filesystem of ${path}: .* free, at least .* needed to start`));
    expect(() => checkFreeSpace([path], 1)).not.toThrow();
  });
});
