// What the Raft store reads on open: hard state, snapshot point, and a check of the log. LevelDB
// drops a damaged write-ahead-log record silently on recovery, so a batch in the middle of the
// log can vanish while later ones survive; the core would then serve a log with a hole or an
// entry of the wrong term. Reading the tail back and checking that indexes are contiguous and
// terms never decrease turns that into a clear error.

import type { Level } from 'level';
import { StoreCorruptError } from '../../util/errors.js';
import type { HardState } from '../../raft/types.js';
import {
  decodeEntry,
  decodeMeta,
  ENTRY_KEY_MAX,
  entryKey,
  HARD_STATE_KEY,
  indexOfEntryKey,
  SNAPSHOT_POINT_KEY,
} from './records.js';

/** A position in the log: an index and the term of the entry there. */
export interface LogPoint {
  readonly index: number;
  readonly term: number;
}

/** The log's last point after the open check, and the hole found in its tail, if any. */
export interface CheckedLog {
  readonly last: LogPoint;
  /** Entries `from`..`through` were missing: what followed them is dropped, `last` is before them. */
  readonly hole?: { readonly from: number; readonly through: number; readonly droppedThrough: number };
}

/**
 * Verifies the first entry and the last `tailEntries` entries (checksums, contiguity, terms
 * non-decreasing, agreement with the snapshot point) and returns the last point of the log. A
 * hole (a batch LevelDB dropped on recovery) ends the log: the caller drops what follows it.
 */
export async function checkLogOnOpen(
  db: Level<Buffer, Buffer>,
  location: string,
  snapshotPoint: LogPoint,
  tailEntries: number,
): Promise<CheckedLog> {
  const lowerKey = entryKey(snapshotPoint.index);
  const first = await db.keys({ gt: lowerKey, lt: ENTRY_KEY_MAX, limit: 1 }).all();
  if (first.length === 0) return { last: snapshotPoint };
  const firstIndex = indexOfEntryKey(first[0]!);
  if (firstIndex !== snapshotPoint.index + 1) {
    throw new StoreCorruptError(
      `${location}: raft log starts at ${String(firstIndex)}, expected ${snapshotPoint.index + 1} after the snapshot point`,
    );
  }
  const tail = await db
    .iterator({ gt: lowerKey, lt: ENTRY_KEY_MAX, reverse: true, limit: Math.max(1, tailEntries) })
    .all();
  let last: LogPoint | undefined;
  let lastOfAll = -1;
  let hole: CheckedLog['hole'];
  let expectedIndex = -1;
  let laterTerm = Number.POSITIVE_INFINITY;
  for (const [key, value] of tail) {
    const index = indexOfEntryKey(key);
    if (index === undefined) throw new StoreCorruptError(`${location}: stray key in the raft log range`);
    if (expectedIndex !== -1 && index !== expectedIndex) {
      // Everything after the lowest hole goes: the log is the intact run before it.
      hole = { from: index + 1, through: expectedIndex, droppedThrough: lastOfAll };
      last = undefined;
      laterTerm = Number.POSITIVE_INFINITY;
    }
    const entry = decodeEntry(value, index, location, undefined, true);
    if (entry.term > laterTerm) {
      throw new StoreCorruptError(
        `${location}: raft log entry ${index} has term ${entry.term}, above the next entry's ${laterTerm}`,
      );
    }
    if (lastOfAll === -1) lastOfAll = index;
    last ??= { index: entry.index, term: entry.term };
    laterTerm = entry.term;
    expectedIndex = index - 1;
  }
  if (expectedIndex === snapshotPoint.index && laterTerm < snapshotPoint.term) {
    throw new StoreCorruptError(
      `${location}: raft log entry ${expectedIndex + 1} has term ${laterTerm}, below the snapshot point's ${snapshotPoint.term}`,
    );
  }
  return hole === undefined ? { last: last ?? snapshotPoint } : { last: last ?? snapshotPoint, hole };
}

export interface OpenedState {
  readonly snapshotPoint: LogPoint;
  /** The stored hard state; its commit brought down to the last entry when entries were lost. */
  readonly hardState: HardState;
  readonly last: LogPoint;
  /** Synced state found missing (loss-guard.ts), in words. */
  readonly losses: readonly string[];
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export async function readOpenedState(
  db: Level<Buffer, Buffer>,
  location: string,
  openCheckEntries: number,
): Promise<OpenedState> {
  const snapshotPoint = await readSnapshotPoint(db, location);
  const hardState = await readHardState(db, location);
  const { last, hole } = await checkLogOnOpen(db, location, snapshotPoint, openCheckEntries);
  const losses: string[] = [];
  if (hole !== undefined) {
    // Entries past a hole cannot be served (the core reads the log as one run): they are dropped,
    // and the node catches up from the leader before it votes (loss-guard.ts).
    const dropped = [];
    for (let index = hole.through + 1; index <= hole.droppedThrough; index++) dropped.push({ type: 'del' as const, key: entryKey(index) });
    await db.batch(dropped, { sync: true });
    losses.push(`${location}: raft log entries ${hole.from}..${hole.through} were missing; entries ${hole.through + 1}..${hole.droppedThrough} after them were dropped`);
  }
  if (hardState.commit > last.index) {
    // Entries committed (so synced here, or acknowledged by a majority) are gone: the node keeps
    // what it holds and catches up from the leader before it votes (loss-guard.ts).
    losses.push(`${location}: commit index ${hardState.commit} is past the log's last entry ${last.index}: synced entries are missing`);
    return { snapshotPoint, hardState: { ...hardState, commit: last.index }, last, losses };
  }
  return { snapshotPoint, hardState, last, losses };
}

async function readSnapshotPoint(db: Level<Buffer, Buffer>, location: string): Promise<LogPoint> {
  const value = await db.get(SNAPSHOT_POINT_KEY);
  if (value === undefined) return { index: 0, term: 0 };
  const body = decodeMeta(value, 'snapshotpoint', location) as Partial<LogPoint> | null;
  if (body === null || !isCount(body.index) || !isCount(body.term)) {
    throw new StoreCorruptError(`${location}: raft metadata 'snapshotpoint' has a bad shape`);
  }
  return { index: body.index, term: body.term };
}

async function readHardState(db: Level<Buffer, Buffer>, location: string): Promise<HardState> {
  const value = await db.get(HARD_STATE_KEY);
  if (value === undefined) return { term: 0, vote: '', commit: 0 };
  const body = decodeMeta(value, 'hardstate', location);
  if (!Array.isArray(body) || !isCount(body[0]) || typeof body[1] !== 'string' || !isCount(body[2])) {
    throw new StoreCorruptError(`${location}: raft metadata 'hardstate' has a bad shape`);
  }
  return { term: body[0], vote: body[1], commit: body[2] };
}
