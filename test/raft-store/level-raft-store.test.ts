// Proves the LevelDB Raft store's contract: append/read, conflict truncation, compaction, snapshot
// points, hard state, group commit (one batch and one sync per write) and survival across reopen.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelRaftStore, RaftStoreErrorCode } from '../../src/store/raft/level-raft-store.js';
import { EntryType } from '../../src/raft/types.js';
import { makeEntries, makeEntry, payload } from './support/entries.js';
import { makeTempDir, removeDir } from './support/temp-dir.js';

let directory: string;
let store: LevelRaftStore;

beforeEach(async () => {
  directory = await makeTempDir('raft-store');
  store = await LevelRaftStore.open(directory, { sync: true });
});

afterEach(async () => {
  await store.close();
  await removeDir(directory);
});

async function reopen(): Promise<void> {
  await store.close();
  store = await LevelRaftStore.open(directory, { sync: true });
}

describe('LevelRaftStore', () => {
  it('starts empty', () => {
    expect(store.firstIndex()).toBe(1);
    expect(store.lastIndex()).toBe(0);
    expect(store.term(0)).toBe(0);
    expect(store.hardState()).toEqual({ term: 0, vote: '', commit: 0 });
    expect(store.entries(1, 1)).toEqual([]);
  });

  it('stores a batch and reads entries back by index and range', async () => {
    await store.storeEntries(makeEntries(1, 10, 1));
    expect(store.firstIndex()).toBe(1);
    expect(store.lastIndex()).toBe(10);
    expect(store.entry(7)).toEqual({ ...makeEntry(7, 1), data: expect.any(Uint8Array) });
    expect(Buffer.from(store.entry(7).data)).toEqual(Buffer.from(payload(7, 1)));
    expect(store.entries(3, 6).map((e) => e.index)).toEqual([3, 4, 5]);
    expect(store.term(10)).toBe(1);
  });

  it('bounds a range read by bytes but always returns at least one entry', async () => {
    await store.storeEntries(makeEntries(1, 10, 1, 100));
    expect(store.entries(1, 11, 250).map((e) => e.index)).toEqual([1, 2]);
    expect(store.entries(1, 11, 1).map((e) => e.index)).toEqual([1]);
  });

  it('keeps the entry type and empty payloads', async () => {
    await store.storeEntries([{ index: 1, term: 1, type: EntryType.Noop, data: new Uint8Array(0) }]);
    await reopen();
    expect(store.entry(1).type).toBe(EntryType.Noop);
    expect(store.entry(1).data.length).toBe(0);
  });

  it('refuses reads outside the log with stable codes', async () => {
    await store.storeEntries(makeEntries(1, 5, 1));
    expect(() => store.entry(6)).toThrow(expect.objectContaining({ code: RaftStoreErrorCode.Unavailable }));
    await store.compactPrefix(2);
    expect(() => store.entry(2)).toThrow(expect.objectContaining({ code: RaftStoreErrorCode.Compacted }));
  });

  it('replaces a conflicting suffix when an append starts inside the log', async () => {
    await store.storeEntries(makeEntries(1, 10, 1));
    await store.storeEntries(makeEntries(6, 7, 2));
    expect(store.lastIndex()).toBe(7);
    expect(store.term(7)).toBe(2);
    await reopen();
    expect(store.lastIndex()).toBe(7);
    expect(store.entries(1, 8).map((e) => e.term)).toEqual([1, 1, 1, 1, 1, 2, 2]);
  });

  it('truncates a suffix and compacts a prefix, remembering the term at the compaction point', async () => {
    await store.storeEntries(makeEntries(1, 20, 3));
    await store.truncateSuffix(16);
    expect(store.lastIndex()).toBe(15);
    await store.compactPrefix(10);
    expect(store.firstIndex()).toBe(11);
    expect(store.term(10)).toBe(3);
    await reopen();
    expect(store.firstIndex()).toBe(11);
    expect(store.lastIndex()).toBe(15);
    expect(store.term(10)).toBe(3);
    expect(store.entries(11, 16).map((e) => e.index)).toEqual([11, 12, 13, 14, 15]);
  });

  it('keeps the log after a snapshot point it agrees with and drops one it contradicts', async () => {
    await store.storeEntries(makeEntries(1, 10, 2));
    await store.write({ snapshotPoint: { index: 5, term: 2 } });
    expect(store.firstIndex()).toBe(6);
    expect(store.lastIndex()).toBe(10);
    await store.write({ snapshotPoint: { index: 8, term: 4 } });
    expect(store.firstIndex()).toBe(9);
    expect(store.lastIndex()).toBe(8);
    expect(store.term(8)).toBe(4);
    await store.write({ snapshotPoint: { index: 30, term: 5 }, entries: makeEntries(31, 32, 5) });
    await reopen();
    expect([store.firstIndex(), store.lastIndex(), store.term(30), store.term(32)]).toEqual([31, 32, 5, 5]);
  });

  it('discards even an agreeing log for a snapshot received from the leader (replaceLog)', async () => {
    await store.storeEntries(makeEntries(1, 10, 2));
    await store.write({ snapshotPoint: { index: 6, term: 2 }, replaceLog: true });
    expect([store.firstIndex(), store.lastIndex(), store.term(6)]).toEqual([7, 6, 2]);
    await reopen();
    expect([store.firstIndex(), store.lastIndex(), store.term(6)]).toEqual([7, 6, 2]);
  });

  it('skips the fsync of a write that asks for none (a commit-index-only Ready)', async () => {
    await store.write({ hardState: { term: 1, vote: '', commit: 0 } }, { sync: false });
    expect(store.stats()).toEqual({ writes: 1, syncs: 0, entriesWritten: 0 });
  });

  it('persists hard state with entries in one batch and one sync (group commit)', async () => {
    const before = store.stats();
    await store.write({ entries: makeEntries(1, 100, 1), hardState: { term: 1, vote: 'n2', commit: 40 } });
    const after = store.stats();
    expect(after.writes - before.writes).toBe(1);
    expect(after.syncs - before.syncs).toBe(1);
    expect(after.entriesWritten - before.entriesWritten).toBe(100);
    await reopen();
    expect(store.hardState()).toEqual({ term: 1, vote: 'n2', commit: 40 });
    expect(store.lastIndex()).toBe(100);
  });

  it('counts no syncs when sync is off (cluster_sync=false)', async () => {
    await store.close();
    store = await LevelRaftStore.open(directory, { sync: false });
    await store.storeEntries(makeEntries(1, 3, 1));
    expect(store.stats()).toEqual({ writes: 1, syncs: 0, entriesWritten: 3 });
  });

  it('applies concurrent writes in call order', async () => {
    const writes = [];
    for (let batch = 0; batch < 10; batch++) writes.push(store.storeEntries(makeEntries(batch * 5 + 1, batch * 5 + 5, 1)));
    await Promise.all(writes);
    expect(store.lastIndex()).toBe(50);
    expect(store.entries(1, 51).map((e) => e.index)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('rejects appends that would leave a gap, lower a term or rewrite committed entries', async () => {
    await store.write({ entries: makeEntries(1, 5, 2), hardState: { term: 2, vote: '', commit: 3 } });
    await expect(store.storeEntries(makeEntries(8, 9, 2))).rejects.toMatchObject({ code: 'ASSERTION_FAILED' });
    // A failed write leaves the store refusing further work: its disk state is in question.
    await expect(store.storeEntries(makeEntries(6, 6, 2))).rejects.toMatchObject({ code: RaftStoreErrorCode.Failed });
    await reopen();
    await expect(store.storeEntries(makeEntries(6, 6, 1))).rejects.toMatchObject({ code: 'ASSERTION_FAILED' });
    await reopen();
    await expect(store.storeEntries(makeEntries(3, 4, 3))).rejects.toMatchObject({ code: 'ASSERTION_FAILED' });
    await reopen();
    await expect(store.truncateSuffix(2)).rejects.toMatchObject({ code: 'ASSERTION_FAILED' });
    await reopen();
    expect(store.lastIndex()).toBe(5);
  });

  it('refuses a second process on the same directory with a clear code', async () => {
    await expect(LevelRaftStore.open(directory)).rejects.toMatchObject({ code: RaftStoreErrorCode.OpenFailed });
  });
});
