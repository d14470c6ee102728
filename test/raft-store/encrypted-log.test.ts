// Proves encryption at rest of the Raft log: Normal entries are sealed in LevelDB (their payload
// bytes appear nowhere in the database files) and read back in clear, across a reopen; terms are
// read without opening bodies; a wrong key, or no key on an encrypted log, stops open with
// STORE_ENCRYPTION_KEY; a sealed body copied under another index does not open.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Level } from 'level';
import { LevelRaftStore } from '../../src/store/raft/level-raft-store.js';
import { entryKey } from '../../src/store/raft/records.js';
import { EntryType, type Entry } from '../../src/raft/types.js';
import { masterKeyOf, type EncryptionSettings } from '../../src/store/crypto/payload-cipher.js';
import { makeTempDir, removeDir } from './support/temp-dir.js';

const SECRET = 'top-secret-payload';
const encryption = (key = 'raft-key'): EncryptionSettings => ({ cipher: 'AES', masterKey: masterKeyOf(key) });

function entries(from: number, through: number): Entry[] {
  const out: Entry[] = [];
  for (let index = from; index <= through; index++) {
    out.push({ index, term: 1, type: index === 1 ? EntryType.ConfigChange : EntryType.Normal, data: Buffer.from(`${SECRET}-${index}`) });
  }
  return out;
}

async function databaseBytes(directory: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const name of await readdir(directory)) parts.push(await readFile(join(directory, name)));
  return Buffer.concat(parts);
}

describe('encrypted Raft log', () => {
  let directory = '';
  beforeEach(async () => {
    directory = await makeTempDir('raft-encrypted');
  });
  afterEach(async () => {
    await removeDir(directory);
  });

  it('seals Normal entries on disk and reads them back in clear after a reopen', async () => {
    let store = await LevelRaftStore.open(directory, { sync: true, encryption: encryption() });
    await store.storeEntries(entries(1, 20));
    await store.close();
    const disk = await databaseBytes(directory);
    expect(disk.includes(`${SECRET}-1`)).toBe(true); // the configuration entry stays in clear
    for (let index = 2; index <= 20; index++) expect(disk.includes(`${SECRET}-${index}`), `entry ${index}`).toBe(false);
    store = await LevelRaftStore.open(directory, { sync: true, encryption: encryption() });
    expect(Buffer.from(store.entry(7).data).toString()).toBe(`${SECRET}-7`);
    expect(store.entries(2, 5).map((e) => Buffer.from(e.data).toString())).toEqual([2, 3, 4].map((i) => `${SECRET}-${i}`));
    expect(store.term(9)).toBe(1);
    await store.storeEntries(entries(21, 22));
    expect(Buffer.from(store.entry(22).data).toString()).toBe(`${SECRET}-22`);
    await store.close();
  });

  it('control: without encryption the same payloads are found in the database files', async () => {
    const store = await LevelRaftStore.open(directory, { sync: true });
    await store.storeEntries(entries(1, 20));
    await store.close();
    const disk = await databaseBytes(directory);
    for (let index = 2; index <= 20; index++) expect(disk.includes(`${SECRET}-${index}`), `entry ${index}`).toBe(true);
  });

  it('stops open with a wrong key, or with no key on an encrypted log', async () => {
    const store = await LevelRaftStore.open(directory, { sync: true, encryption: encryption() });
    await store.storeEntries(entries(1, 5));
    await store.close();
    await expect(LevelRaftStore.open(directory, { sync: true, encryption: encryption('other-key') })).rejects.toMatchObject({
      code: 'STORE_ENCRYPTION_KEY',
      message: expect.stringContaining('wrong key'),
    });
    await expect(LevelRaftStore.open(directory, { sync: true })).rejects.toMatchObject({
      code: 'STORE_ENCRYPTION_KEY',
      message: expect.stringContaining('-encrypt'),
    });
  });

  it('binds a sealed body to its entry: moved under another index it does not open', async () => {
    const store = await LevelRaftStore.open(directory, { sync: true, encryption: encryption() });
    await store.storeEntries(entries(1, 5));
    await store.close();
    const db = new Level<Buffer, Buffer>(directory, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const third = (await db.get(entryKey(3)))!;
    const moved = Buffer.from(third);
    moved.writeUInt32BE(0, 5);
    moved.writeUInt32BE(4, 9); // index 4, CRC recomputed below so only the sealing can object
    const { crc32c } = await import('../../src/store/raft/crc32c.js');
    moved.writeUInt32BE(crc32c(moved.subarray(5)), 1);
    await db.put(entryKey(4), moved);
    await db.close();
    const reopened = await LevelRaftStore.open(directory, { sync: true, encryption: encryption(), openCheckEntries: 1 });
    expect(() => reopened.entry(4)).toThrow(expect.objectContaining({ code: 'STORE_ENCRYPTION_KEY' }) as Error);
    expect(Buffer.from(reopened.entry(3).data).toString()).toBe(`${SECRET}-3`);
    await reopened.close();
  });
});
