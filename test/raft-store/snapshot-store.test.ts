// Proves the file snapshot store: atomic create (nothing visible before commit, temp files of a
// crash removed on open), metadata round trip, retention of the newest `retain`, and a damaged
// snapshot (flipped byte, truncated file) skipped for the next older one.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileSnapshotStore } from '../../src/store/raft/snapshot-store.js';
import { makeTempDir, removeDir } from './support/temp-dir.js';

interface Membership {
  voters: string[];
  nonVoters: string[];
}

let directory: string;
const membership: Membership = { voters: ['a', 'b', 'c'], nonVoters: ['d'] };

beforeEach(async () => {
  directory = await makeTempDir('raft-snap');
});
afterEach(async () => {
  await removeDir(directory);
});

function bytes(seed: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (seed + i * 13) & 0xff);
}

describe('FileSnapshotStore', () => {
  it('round-trips metadata and data, streaming data in chunks', async () => {
    const store = await FileSnapshotStore.open<Membership>(directory);
    expect(await store.latest()).toBeUndefined();
    const sink = await store.create({ index: 120, term: 4, membership });
    await sink.write(bytes(1, 1000));
    await sink.write(bytes(2, 3000));
    expect(await store.list()).toEqual([]);
    await sink.commit();
    const latest = await store.latest();
    expect(latest?.meta).toEqual({ index: 120, term: 4, membership });
    expect(Buffer.from(latest!.data)).toEqual(Buffer.concat([bytes(1, 1000), bytes(2, 3000)]));
  });

  it('keeps only the newest `retain` snapshots', async () => {
    const store = await FileSnapshotStore.open<Membership>(directory, { retain: 2 });
    for (const index of [10, 20, 30, 40]) await store.save({ index, term: 1, membership }, bytes(index, 64));
    expect((await store.list()).map((s) => s.index)).toEqual([40, 30]);
    expect((await store.latest())?.meta.index).toBe(40);
  });

  it('skips a snapshot with a flipped byte, then a truncated one, for older ones', async () => {
    const store = await FileSnapshotStore.open<Membership>(directory, { retain: 3 });
    for (const index of [10, 20, 30]) await store.save({ index, term: 2, membership }, bytes(index, 256));
    const [newest, middle] = await store.list();
    const damaged = await readFile(newest!.file);
    damaged[damaged.length - 10] = damaged[damaged.length - 10]! ^ 0x01;
    await writeFile(newest!.file, damaged);
    expect((await store.latest())?.meta.index).toBe(20);
    await truncate(middle!.file, 40);
    const oldest = await store.latest();
    expect(oldest?.meta.index).toBe(10);
    expect(Buffer.from(oldest!.data)).toEqual(Buffer.from(bytes(10, 256)));
  });

  it('returns nothing when every snapshot is damaged', async () => {
    const store = await FileSnapshotStore.open(directory);
    await store.save({ index: 5, term: 1, membership: null }, bytes(5, 10));
    const [only] = await store.list();
    await writeFile(only!.file, Buffer.from('not a snapshot at all'));
    expect(await store.latest()).toBeUndefined();
  });

  it('an aborted snapshot leaves nothing, and temp files of a crash are removed on open', async () => {
    const store = await FileSnapshotStore.open(directory);
    const sink = await store.create({ index: 7, term: 1, membership: null });
    await sink.write(bytes(7, 100));
    await sink.abort();
    expect(await readdir(directory)).toEqual([]);
    const crashed = await store.create({ index: 8, term: 1, membership: null });
    await crashed.write(bytes(8, 100));
    expect((await readdir(directory)).length).toBe(1);
    await FileSnapshotStore.open(directory);
    expect(await readdir(directory)).toEqual([]);
    await crashed.abort();
  });

  it('rejects a bad retain count and bad metadata with clear codes', async () => {
    await expect(FileSnapshotStore.open(directory, { retain: 0 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const store = await FileSnapshotStore.open(directory);
    await expect(store.save({ index: -1, term: 1, membership: null }, bytes(0, 1))).rejects.toMatchObject({
      code: 'SNAPSHOT_INVALID',
    });
    expect(join(directory)).toBe(directory);
  });
});
