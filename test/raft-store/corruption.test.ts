// Proves damage is detected, not served: values are corrupted or removed through LevelDB
// directly, then the store is reopened and must fail with STORE_CORRUPT naming the index — or,
// where the intact part of the log can be kept (a hole, a commit past the end), report the loss.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Level } from 'level';
import { LevelRaftStore } from '../../src/store/raft/level-raft-store.js';
import { entryKey, encodeEntry, metaKey } from '../../src/store/raft/records.js';
import { makeEntries, makeEntry } from './support/entries.js';
import { makeTempDir, removeDir } from './support/temp-dir.js';

let directory: string;

beforeEach(async () => {
  directory = await makeTempDir('raft-corrupt');
  const store = await LevelRaftStore.open(directory);
  await store.write({ entries: makeEntries(1, 50, 1), hardState: { term: 1, vote: 'a', commit: 10 } });
  await store.write({ entries: makeEntries(51, 100, 2) });
  await store.close();
});

afterEach(async () => {
  await removeDir(directory);
});

async function tamper(change: (db: Level<Buffer, Buffer>) => Promise<void>): Promise<void> {
  const db = new Level<Buffer, Buffer>(directory, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    await change(db);
  } finally {
    await db.close();
  }
}

async function flipByte(index: number, offset: number): Promise<void> {
  await tamper(async (db) => {
    const value = await db.get(entryKey(index));
    const damaged = Buffer.from(value!);
    damaged[offset] = damaged[offset]! ^ 0x40;
    await db.put(entryKey(index), damaged);
  });
}

describe('damage in the LevelDB Raft log', () => {
  it('a payload byte flipped deep in the log is caught by the checksum when read', async () => {
    await flipByte(5, 30);
    const store = await LevelRaftStore.open(directory, { openCheckEntries: 20 });
    try {
      expect(store.entry(4).index).toBe(4);
      expect(() => store.entry(5)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
      expect(() => store.entry(5)).toThrow(/entry 5 .*checksum/);
      expect(() => store.entries(1, 10)).toThrow(/entry 5 /);
    } finally {
      await store.close();
    }
  });

  it('a term byte flipped in the tail fails the open with the index named', async () => {
    await flipByte(97, 20);
    await expect(LevelRaftStore.open(directory)).rejects.toThrow(/entry 97 .*checksum/);
    await expect(LevelRaftStore.open(directory)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
  });

  it('a record moved under another key is caught by the index it carries', async () => {
    await tamper(async (db) => {
      await db.put(entryKey(60), encodeEntry(makeEntry(61, 2)));
    });
    await expect(LevelRaftStore.open(directory)).rejects.toThrow(/entry 60 .*carries index 61/);
  });

  it('a hole in the tail (a batch LevelDB dropped) ends the log: what follows is dropped and reported lost', async () => {
    await tamper(async (db) => {
      await db.batch([{ type: 'del', key: entryKey(70) }, { type: 'del', key: entryKey(71) }, { type: 'del', key: entryKey(90) }]);
    });
    const store = await LevelRaftStore.open(directory);
    try {
      expect(store.lastIndex()).toBe(69);
      expect(store.losses).toEqual([expect.stringMatching(/entries 70\.\.71 were missing; entries 72\.\.100 after them were dropped/)]);
      expect(store.entry(69).term).toBe(2);
    } finally {
      await store.close();
    }
    const reopened = await LevelRaftStore.open(directory);
    expect([reopened.lastIndex(), reopened.losses]).toEqual([69, []]);
    await reopened.close();
  });

  it('a term that goes down in the tail fails the open', async () => {
    await tamper(async (db) => {
      await db.put(entryKey(80), encodeEntry(makeEntry(80, 9)));
    });
    await expect(LevelRaftStore.open(directory)).rejects.toThrow(/entry 80 has term 9, above the next entry's 2/);
  });

  it('a lost tail behind the durable commit index is reported as a loss, the commit brought down to what is held', async () => {
    await tamper(async (db) => {
      const keys = [];
      for (let index = 5; index <= 100; index++) keys.push({ type: 'del' as const, key: entryKey(index) });
      await db.batch(keys);
    });
    const store = await LevelRaftStore.open(directory);
    try {
      expect(store.losses).toEqual([expect.stringMatching(/commit index 10 is past the log's last entry 4/)]);
      expect(store.hardState()).toEqual({ term: 1, vote: 'a', commit: 4 });
      expect(store.lastIndex()).toBe(4);
    } finally {
      await store.close();
    }
  });

  it('a missing entry inside the log is reported when read', async () => {
    await tamper(async (db) => {
      await db.del(entryKey(3));
    });
    const store = await LevelRaftStore.open(directory, { openCheckEntries: 10 });
    try {
      expect(() => store.entry(3)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT', message: expect.stringMatching(/entry 3 is missing/) }));
    } finally {
      await store.close();
    }
  });

  it('damaged hard state is reported, not read as zero', async () => {
    await tamper(async (db) => {
      const value = Buffer.from((await db.get(metaKey('hardstate')))!);
      value[value.length - 1] = value[value.length - 1]! ^ 0x01;
      await db.put(metaKey('hardstate'), value);
    });
    await expect(LevelRaftStore.open(directory)).rejects.toThrow(/'hardstate' is damaged: checksum/);
  });
});
