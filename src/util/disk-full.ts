// A full disk is an operating condition, not a bug: a node whose write fails for lack of space
// stops (it cannot vouch for state it could not write), says so in one line naming the errno and
// the file, and exits with its own code so that a supervisor restarts it and an operator sees why;
// it refuses to start again until its filesystems have room (docs/clustering.md §7).
// The failure reaches us in two shapes: Node's fs errors (`code: 'ENOSPC'`, `path`) and LevelDB's
// (`code: 'LEVEL_IO_ERROR'`, message `IO error: <path>: No space left on device`), either of them
// wrapped in our own errors' `cause`. The start-up check of free space is src/store/free-space.ts.
import { TstanError } from './errors.js';

export const DiskFullErrno = { noSpace: 'ENOSPC', quota: 'EDQUOT' } as const;
export type DiskFullErrno = (typeof DiskFullErrno)[keyof typeof DiskFullErrno];

export interface DiskFull {
  readonly errno: DiskFullErrno;
  /** The file or directory the write was for ('' when the error does not say). */
  readonly path: string;
}

/** sysexits.h EX_IOERR: the process stopped, or would not start, because its disk is full. */
export const EXIT_DISK_FULL = 74;

const CAUSE_DEPTH_MAX = 8;
/** The first absolute path in a message, up to a space or the ':' before the cause's text. */
const ABSOLUTE_PATH = /(?:^|\s)(\/[^\s:'"]+)/;
const LEVEL_MESSAGES: ReadonlyArray<readonly [RegExp, DiskFullErrno]> = [
  [/IO error: (.*): No space left on device/, DiskFullErrno.noSpace],
  [/IO error: (.*): Disk quota exceeded/, DiskFullErrno.quota],
];

/**
 * The error, or one of its causes, says a write failed for lack of space; undefined otherwise.
 * The path is the failing error's own (`path`, or LevelDB's message), else the nearest wrapper's
 * that names a file (fd writes carry none: "write or fsync failed on <file>" does).
 */
export function findDiskFull(error: unknown): DiskFull | undefined {
  let current: unknown = error;
  let wrapperPath = '';
  for (let depth = 0; depth < CAUSE_DEPTH_MAX && current instanceof Error; depth++) {
    if (current instanceof DiskFullError) return { errno: current.errno, path: current.path };
    const fields = current as Error & { code?: unknown; path?: unknown };
    const ownPath = typeof fields.path === 'string' ? fields.path : '';
    if (fields.code === DiskFullErrno.noSpace || fields.code === DiskFullErrno.quota) {
      return { errno: fields.code, path: ownPath || wrapperPath };
    }
    for (const [pattern, errno] of LEVEL_MESSAGES) {
      const match = pattern.exec(current.message);
      if (match !== null) return { errno, path: match[1] ?? wrapperPath };
    }
    wrapperPath ||= ownPath || (ABSOLUTE_PATH.exec(current.message)?.[1] ?? '');
    current = current.cause;
  }
  return undefined;
}

/** A write failed, or would, for lack of space on the filesystem of `path`. */
export class DiskFullError extends TstanError {
  constructor(
    readonly errno: DiskFullErrno,
    readonly path: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('DISK_FULL', `disk full (${errno}) ${detail}`, options);
    this.name = 'DiskFullError';
  }

  /** The one line an operator reads: what failed, where, and what happens next. */
  static from(full: DiskFull, cause: unknown): DiskFullError {
    const where = full.path === '' ? 'writing its data' : `writing ${full.path}`;
    return new DiskFullError(full.errno, full.path, `${where}: the node stops; it starts again once space is freed`, { cause });
  }
}
