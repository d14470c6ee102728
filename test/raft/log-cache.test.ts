// Proves the log's cache of recent durable entries is bounded in bytes as well as in entries (an
// entry can be a batch of megabytes), that what falls out of it is read back from storage, and
// that whatever the appends, truncations and compactions, reads return what storage holds.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RaftLog } from '../../src/raft/log.js';
import { MemoryStorage } from '../../src/raft/storage.js';
import { entryBytes } from '../../src/raft/messages.js';
import { EntryType, type Entry } from '../../src/raft/types.js';

function sized(index: number, term: number, bytes: number): Entry {
  const data = new Uint8Array(bytes).fill(index % 251);
  return { index, term, type: EntryType.Normal, data };
}

/** Appends to the log, persists as the driver would, and marks the entries stable. */
function appendDurably(log: RaftLog, storage: MemoryStorage, entries: Entry[]): void {
  log.append(entries);
  storage.append([...log.unstableEntries()]);
  const last = entries[entries.length - 1]!;
  log.stableTo(last.index, last.term);
}

describe('the log cache', () => {
  it('keeps recent entries up to its byte bound and reads older ones from storage', () => {
    const storage = new MemoryStorage();
    const mb = 1024 * 1024;
    const log = new RaftLog(storage, 512, 0, 0, 4 * mb);
    for (let i = 1; i <= 10; i++) appendDurably(log, storage, [sized(i, 1, mb)]);
    // Four entries of 1 MB and 24 bytes each would pass 4 MB: three stay.
    expect(log.cachedBytes()).toBe(3 * entryBytes(sized(1, 1, mb)));
    const before = { ...log.stats };
    expect(log.entries(8, 11, 64, 64 * mb)!.map((e) => e.index)).toEqual([8, 9, 10]);
    expect(log.stats.cacheHits).toBe(before.cacheHits + 1);
    expect(log.stats.storageReads).toBe(before.storageReads);
    const older = log.entries(5, 8, 64, 64 * mb)!;
    expect(older.map((e) => e.index)).toEqual([5, 6, 7]);
    expect(older[0]!.data[0]).toBe(5);
    expect(log.stats.storageReads).toBe(before.storageReads + 1);
  });

  it('keeps nothing of an entry larger than the bound, and still serves it', () => {
    const storage = new MemoryStorage();
    const log = new RaftLog(storage, 512, 0, 0, 1000);
    appendDurably(log, storage, [sized(1, 1, 5000)]);
    expect(log.cachedBytes()).toBe(0);
    expect(log.entries(1, 2, 64, 1)![0]!.data.byteLength).toBe(5000);
  });

  it('reads what storage holds and stays within both bounds, whatever the history', () => {
    type Step = { kind: 'append'; sizes: number[]; term: number } | { kind: 'truncate'; back: number; sizes: number[] } | { kind: 'compact'; back: number };
    const step = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), sizes: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 6 }), term: fc.integer({ min: 0, max: 1 }) }),
      fc.record({ kind: fc.constant('truncate' as const), back: fc.integer({ min: 0, max: 8 }), sizes: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant('compact' as const), back: fc.integer({ min: 0, max: 12 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 1500 }), fc.array(step, { maxLength: 40 }), (count, bytesMax, steps: Step[]) => {
        const storage = new MemoryStorage();
        const log = new RaftLog(storage, count, 0, 0, bytesMax);
        let term = 1;
        for (const s of steps) {
          const last = log.lastIndex();
          if (s.kind === 'append') {
            term += s.term;
            const added = s.sizes.map((size, i) => sized(last + 1 + i, term, size));
            appendDurably(log, storage, added);
            // The newest entry stays cached when it fits both bounds.
            const newest = entryBytes(added[added.length - 1]!);
            if (count > 0 && newest <= bytesMax) expect(log.cachedBytes()).toBeGreaterThanOrEqual(newest);
          } else if (s.kind === 'truncate') {
            // Overwrite an uncommitted suffix (nothing is committed here) with a later term.
            const from = Math.max(storage.firstIndex(), last + 1 - s.back);
            term += 1;
            appendDurably(log, storage, s.sizes.map((size, i) => sized(from + i, term, size)));
          } else {
            // Discards the entries below `below`, keeping the last one.
            const below = Math.min(last, storage.firstIndex() + s.back);
            if (below > storage.firstIndex()) {
              storage.compact(below);
              log.compacted(below);
            }
          }
          expect(log.cachedBytes()).toBeGreaterThanOrEqual(0);
          expect(log.cachedBytes()).toBeLessThanOrEqual(bytesMax);
          const low = storage.firstIndex();
          const high = log.lastIndex() + 1;
          if (low < high) {
            const got = log.entries(low, high, 1_000, Number.MAX_SAFE_INTEGER)!;
            const want = storage.entries(low, high, Number.MAX_SAFE_INTEGER);
            expect(got.map((e) => [e.index, e.term, e.data.byteLength])).toEqual(want.map((e) => [e.index, e.term, e.data.byteLength]));
          }
        }
      }),
      { numRuns: 300, seed: 20261207 },
    );
  });
});
