// The open-time check of the Raft log. LevelDB drops a damaged write-ahead-log record silently
// on recovery, so a batch in the middle of the log can vanish while later ones survive; the core
// would then serve a log with a hole or an entry of the wrong term. Reading the tail back and
// checking that indexes are contiguous and terms never decrease turns that into a clear error.

import type { Level } from 'level';
import { StoreCorruptError } from '../../util/errors.js';
import { decodeEntry, ENTRY_KEY_MAX, entryKey, indexOfEntryKey } from './records.js';

/** A position in the log: an index and the term of the entry there. */
export interface LogPoint {
  readonly index: number;
  readonly term: number;
}

/**
 * Verifies the first entry and the last `tailEntries` entries (checksums, contiguity, terms
 * non-decreasing, agreement with the snapshot point) and returns the last point of the log.
 */
export async function checkLogOnOpen(
  db: Level<Buffer, Buffer>,
  location: string,
  snapshotPoint: LogPoint,
  tailEntries: number,
): Promise<LogPoint> {
  const lowerKey = entryKey(snapshotPoint.index);
  const first = await db.keys({ gt: lowerKey, lt: ENTRY_KEY_MAX, limit: 1 }).all();
  if (first.length === 0) return snapshotPoint;
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
  let expectedIndex = -1;
  let laterTerm = Number.POSITIVE_INFINITY;
  for (const [key, value] of tail) {
    const index = indexOfEntryKey(key);
    if (index === undefined) throw new StoreCorruptError(`${location}: stray key in the raft log range`);
    if (expectedIndex !== -1 && index !== expectedIndex) {
      throw new StoreCorruptError(
        `${location}: raft log is not contiguous: entries ${index + 1}..${expectedIndex} are missing before ${expectedIndex + 1}`,
      );
    }
    const entry = decodeEntry(value, index, location);
    if (entry.term > laterTerm) {
      throw new StoreCorruptError(
        `${location}: raft log entry ${index} has term ${entry.term}, above the next entry's ${laterTerm}`,
      );
    }
    last ??= { index: entry.index, term: entry.term };
    laterTerm = entry.term;
    expectedIndex = index - 1;
  }
  if (expectedIndex === snapshotPoint.index && laterTerm < snapshotPoint.term) {
    throw new StoreCorruptError(
      `${location}: raft log entry ${expectedIndex + 1} has term ${laterTerm}, below the snapshot point's ${snapshotPoint.term}`,
    );
  }
  return last ?? snapshotPoint;
}
