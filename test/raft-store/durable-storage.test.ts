// Proves the core-facing storage over LevelDB and snapshot files: bootstrap once, answers of
// RaftStorage (terms around a snapshot, undefined when compacted), compaction never past the
// durable snapshot, a crash between a received snapshot's file and its log write repaired on
// open, and a log compacted past every intact snapshot refused with STORE_CORRUPT.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DurableRaftStorage } from '../../src/store/raft/durable-storage.js';
import { LevelRaftStore } from '../../src/store/raft/level-raft-store.js';
import { FileSnapshotStore } from '../../src/store/raft/snapshot-store.js';
import type { ClusterConfig } from '../../src/raft/messages.js';
import { makeEntries } from './support/entries.js';
import { makeTempDir, removeDir } from './support/temp-dir.js';

const config: ClusterConfig = { voters: ['a', 'b', 'c'], nonVoters: [] };
let directory: string;

beforeEach(async () => {
  directory = await makeTempDir('raft-durable');
});
afterEach(async () => {
  await removeDir(directory);
});

describe('DurableRaftStorage', () => {
  it('bootstraps an empty log once and answers the core', async () => {
    let storage = await DurableRaftStorage.open(directory);
    expect(await storage.bootstrap(config)).toBe(true);
    expect(await storage.bootstrap(config)).toBe(false);
    await storage.persist({ entries: makeEntries(2, 30, 1), hardState: { term: 1, vote: 'a', commit: 25 }, mustSync: true });
    await storage.saveSnapshot({ meta: { index: 20, term: 1, config }, data: Uint8Array.of(1, 2, 3) });
    await storage.compact(15);
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(14), storage.term(13)]).toEqual([15, 30, 1, undefined]);
    // Compaction never passes the durable snapshot.
    await storage.compact(1000);
    expect(storage.firstIndex()).toBe(21);
    await storage.close();
    storage = await DurableRaftStorage.open(directory);
    expect(storage.initialState()).toEqual({ hardState: { term: 1, vote: 'a', commit: 25 }, snapshotMeta: { index: 20, term: 1, config } });
    expect([storage.term(0), storage.term(20), storage.term(19), storage.term(31)]).toEqual([0, 1, undefined, undefined]);
    expect(storage.entries(21, 31, 1e9).length).toBe(10);
    expect(Array.from(storage.snapshot()!.data)).toEqual([1, 2, 3]);
    await storage.close();
  });

  it('persists a received snapshot: file first, then the log replaced in one write', async () => {
    const storage = await DurableRaftStorage.open(directory);
    await storage.bootstrap(config);
    await storage.persist({ entries: makeEntries(2, 5, 1), mustSync: true });
    const snapshot = { meta: { index: 40, term: 3, config }, data: Uint8Array.of(9) };
    await storage.persist({ snapshot, entries: makeEntries(41, 42, 3), hardState: { term: 3, vote: '', commit: 40 }, mustSync: true });
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(40), storage.snapshot()?.meta.index]).toEqual([41, 42, 3, 40]);
    expect(storage.stats().snapshotSyncs).toBe(1);
    await storage.close();
  });

  it('repairs a crash between a received snapshot file and its log write', async () => {
    const log = await LevelRaftStore.open(join(directory, 'log'));
    await log.write({ entries: makeEntries(1, 5, 1), hardState: { term: 2, vote: 'b', commit: 3 } });
    await log.close();
    const snapshots = await FileSnapshotStore.open<ClusterConfig>(join(directory, 'snapshots'));
    await snapshots.save({ index: 50, term: 2, membership: config }, Uint8Array.of(7));
    const storage = await DurableRaftStorage.open(directory);
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(50)]).toEqual([51, 50, 2]);
    expect(storage.initialState().hardState).toEqual({ term: 2, vote: 'b', commit: 50 });
    await storage.close();
  });

  it('refuses a log compacted past every intact snapshot', async () => {
    const storage = await DurableRaftStorage.open(directory);
    await storage.bootstrap(config);
    await storage.persist({ entries: makeEntries(2, 30, 1), hardState: { term: 1, vote: '', commit: 30 }, mustSync: true });
    await storage.saveSnapshot({ meta: { index: 20, term: 1, config }, data: Uint8Array.of(1) });
    await storage.compact(21);
    await storage.close();
    const snapshotDirectory = join(directory, 'snapshots');
    for (const name of await readdir(snapshotDirectory)) await writeFile(join(snapshotDirectory, name), 'damaged');
    await expect(DurableRaftStorage.open(directory)).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringMatching(/compacted through 20 but no intact snapshot/),
    });
  });
});
