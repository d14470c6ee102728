// Proves the durability and file_* options on the simulated disk (which counts fsyncs): one
// fsync covers every batch of a turn, never one per message; directories are fsynced when files
// appear; file_sync=false fsyncs nothing until close and still recovers after a power failure;
// crc_poly changes the checksum (files parse with that polynomial only, crc=false skips checks);
// subs.dat and clients.dat compact and survive power failures around compaction.
import { describe, expect, it } from 'vitest';
import { SimDisk } from '../../../src/store/file/sim-disk.js';
import { CRC32_CASTAGNOLI } from '../../../src/store/file/crc32.js';
import { resolveFileStoreOptions, DEFAULT_FILE_STORE_OPTIONS } from '../../../src/store/file/options.js';
import { emptySubState } from '../../../src/store/records.js';
import { message, openStore, serverInfo, testClock } from './support/open.js';
import { readIndex, readRecords } from './support/reader.js';

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 48271) + 11) % 2147483647;
    return state / 2147483647;
  };
}

async function freshStore(disk: SimDisk, file = {}) {
  const store = openStore('/data', { io: disk, file });
  await store.recover();
  await store.init(serverInfo());
  return store;
}

describe('group commit', () => {
  it('covers a 500-message batch and every batch of the same turn with one data fsync', async () => {
    const disk = new SimDisk();
    const store = await freshStore(disk);
    const channel = await store.createChannel('foo');
    await channel.msgs.storeBatch([message('foo', 'first', 1n)]).durable;
    const before = disk.stats.fileSyncs;
    const big = channel.msgs.storeBatch(Array.from({ length: 500 }, (_, i) => message('foo', `m${i}`, 2n)));
    await big.durable;
    expect(disk.stats.fileSyncs - before).toBeLessThanOrEqual(2); // the data file, and the index written last round
    const mid = disk.stats.fileSyncs;
    const batches = [1, 2, 3].map((n) => channel.msgs.storeBatch([message('foo', `turn${n}`, 3n), message('foo', `turn${n}b`, 3n)]));
    await Promise.all(batches.map((b) => b.durable));
    expect(disk.stats.fileSyncs - mid).toBeLessThanOrEqual(2);
    await store.close();
  });

  it('fsyncs the directories before a new channel or slice is reported durable', async () => {
    const disk = new SimDisk();
    const store = await freshStore(disk, { sliceMaxMsgs: 2, sliceMaxBytes: 0 });
    const before = disk.stats.dirSyncs;
    const channel = await store.createChannel('new.channel');
    await channel.msgs.storeBatch([message('new.channel', 'a', 1n), message('new.channel', 'b', 1n), message('new.channel', 'c', 1n)]).durable;
    await channel.subs.flush();
    expect(disk.stats.dirSyncs - before).toBeGreaterThanOrEqual(3); // root, channel dir, second slice
    disk.powerFail(seeded(7));
    const again = openStore('/data', { io: disk });
    const state = await again.recover();
    expect(state!.channels.map((c) => [c.channel.name, c.channel.msgs.lastSequence()])).toEqual([['new.channel', 3]]);
    await again.close();
  });
});

describe('file_sync=false', () => {
  it('fsyncs nothing while running, and a power failure loses only unsynced messages', async () => {
    const disk = new SimDisk();
    const store = await freshStore(disk, { sync: false });
    const channel = await store.createChannel('lazy');
    await channel.subs.flush(); // the channel's directory entries are durable; its messages are not
    const before = disk.stats.fileSyncs;
    for (let i = 1; i <= 20; i++) await channel.msgs.storeBatch([message('lazy', `m${i}`, BigInt(i))]).durable;
    expect(disk.stats.fileSyncs).toBe(before);
    disk.powerFail(seeded(3));
    const again = openStore('/data', { io: disk });
    const state = await again.recover();
    const msgs = state!.channels[0]!.channel.msgs;
    for (let seq = 1; seq <= msgs.lastSequence(); seq++) {
      expect(Buffer.from((await msgs.lookup(seq))!.data).toString()).toBe(`m${seq}`);
    }
    await again.close();
  });
});

describe('file_crc and file_crc_poly', () => {
  it('writes with the chosen polynomial and checks with it', async () => {
    const disk = new SimDisk();
    const store = await freshStore(disk, { crcPoly: CRC32_CASTAGNOLI });
    const channel = await store.createChannel('poly');
    await channel.msgs.storeBatch([message('poly', 'x', 1n), message('poly', 'y', 2n)]).durable;
    await store.close();
    expect(readRecords(disk.readFile('/data/poly/msgs.1.dat'), false, CRC32_CASTAGNOLI)).toHaveLength(2);
    expect(readIndex(disk.readFile('/data/poly/msgs.1.idx'), CRC32_CASTAGNOLI)).toHaveLength(2);
    expect(() => readRecords(disk.readFile('/data/poly/msgs.1.dat'), false)).toThrow(/bad crc/);
    await expect(openStore('/data', { io: disk }).recover()).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    const unchecked = openStore('/data', { io: disk, file: { crc: false } });
    const state = await unchecked.recover();
    expect(state!.channels[0]!.channel.msgs.lastSequence()).toBe(2);
    await unchecked.close();
  });

  it('validates option values with the option name, and keeps the reference defaults', () => {
    expect(DEFAULT_FILE_STORE_OPTIONS).toMatchObject({
      compactEnabled: true, compactFragPercent: 50, compactIntervalSec: 300, compactMinSizeBytes: 1024 * 1024,
      bufferSizeBytes: 2 * 1024 * 1024, crc: true, crcPoly: 0xedb88320, sync: true, sliceMaxMsgs: 0,
      sliceMaxBytes: 64 * 1024 * 1024, sliceMaxAgeMs: 0, sliceArchiveScript: '', fdsLimit: 0, parallelRecovery: 1,
      truncateBadEof: false,
    });
    expect(() => resolveFileStoreOptions({ compactFragPercent: 150 })).toThrow(/file_compact_frag/);
    expect(() => resolveFileStoreOptions({ sliceMaxMsgs: -1 })).toThrow(/file_slice_max_msgs/);
    expect(() => resolveFileStoreOptions({ crcPoly: 0 })).toThrow(/file_crc_poly/);
    expect(() => resolveFileStoreOptions({ parallelRecovery: 0 })).toThrow(/file_parallel_recovery/);
  });
});

describe('compaction', () => {
  const compactNow = { compactMinSizeBytes: 0, compactIntervalSec: 0, compactFragPercent: 50 };

  it('rewrites subs.dat once acks dominate, keeping state across a power failure', async () => {
    const disk = new SimDisk();
    const store = await freshStore(disk, compactNow);
    const channel = await store.createChannel('subs');
    const sub = { ...emptySubState(), clientId: 'c', inbox: 'i', ackInbox: 'a', maxInFlight: 5, ackWaitInSecs: 5, durableName: 'd', isDurable: true };
    channel.subs.createSub(sub);
    const other = { ...sub, id: 0, durableName: 'e' };
    channel.subs.createSub(other);
    for (let seq = 1; seq <= 200; seq++) channel.subs.addSeqPending(sub.id, seq);
    for (let seq = 1; seq <= 195; seq++) channel.subs.ackSeqPending(sub.id, seq);
    channel.subs.deleteSub(other.id);
    await channel.subs.flush();
    const records = readRecords(disk.readFile('/data/subs/subs.dat'), true);
    expect(records.length).toBeLessThan(50);
    const expected = channel.subs.list();
    expect(expected).toEqual([{ sub: { ...sub, lastSent: 200 }, pending: [196, 197, 198, 199, 200] }]);
    disk.powerFail(seeded(11));
    const again = openStore('/data', { io: disk });
    const state = await again.recover();
    expect(state!.channels[0]!.subscriptions).toEqual(expected);
    await again.close();
  });

  it('rewrites clients.dat after many deletes, and never when disabled', async () => {
    for (const enabled of [true, false]) {
      const disk = new SimDisk();
      const store = await freshStore(disk, { ...compactNow, compactEnabled: enabled });
      for (let i = 0; i < 100; i++) {
        await store.addClient({ id: `c${i}`, hbInbox: 'hb', connId: new Uint8Array(0), protocol: 1, pingInterval: 0, pingMaxOut: 0 });
      }
      for (let i = 0; i < 98; i++) await store.deleteClient(`c${i}`);
      const records = readRecords(disk.readFile('/data/clients.dat'), true).length;
      if (enabled) expect(records).toBeLessThan(20);
      else expect(records).toBe(198);
      disk.powerFail(seeded(5));
      const again = openStore('/data', { io: disk });
      expect((await again.recover())!.clients.map((c) => c.id)).toEqual(['c98', 'c99']);
      await again.close();
    }
  });

  it('waits for the compaction interval', async () => {
    const disk = new SimDisk();
    const clock = testClock();
    const store = openStore('/data', { io: disk, clock, file: { ...compactNow, compactIntervalSec: 60 } });
    await store.recover();
    await store.init(serverInfo());
    for (let i = 0; i < 10; i++) await store.addClient({ id: `c${i}`, hbInbox: 'hb', connId: new Uint8Array(0), protocol: 1, pingInterval: 0, pingMaxOut: 0 });
    for (let i = 0; i < 9; i++) await store.deleteClient(`c${i}`);
    expect(readRecords(disk.readFile('/data/clients.dat'), true)).toHaveLength(19);
    clock.set(clock.nowNs() + 61_000_000_000n);
    await store.deleteClient('c9');
    expect(readRecords(disk.readFile('/data/clients.dat'), true)).toHaveLength(0);
    await store.close();
  });
});
