// Proves the FILE store's cache of recent messages: runs are evicted oldest first across channels
// and the budget is never exceeded; lookups of cached messages read nothing from the disk; a
// message behind the cache is read from the disk with the ones after it in one read; every
// message reads back the same from cache and disk; messages dropped by limits are never served.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { SimDisk } from '../../../src/store/file/sim-disk.js';
import type { FileHandle, FileIo } from '../../../src/store/file/io.js';
import { cachedRun, ChannelMsgCache, MsgCacheBudget, RUN_OVERHEAD_BYTES } from '../../../src/store/file/msg-cache.js';
import { frameBatch } from '../../../src/store/file/msg-codec.js';
import { decodeMsgProto, emptyMsgProto, encodeMsgProto } from '../../../src/store/records.js';
import type { Channel, MsgStore } from '../../../src/store/types.js';
import { defaultStoreLimits } from '../../../src/store/limits.js';
import { message, openStore, serverInfo } from './support/open.js';

/** A run of `count` records of `size` payload bytes each (headers hold the sizes). */
function run(firstSeq: number, count: number, size = 100): ReturnType<typeof cachedRun> {
  const buffer = Buffer.alloc(count * (8 + size));
  const starts = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    starts[i] = i * (8 + size);
    buffer.writeUInt32LE(size, starts[i]!);
  }
  return cachedRun(firstSeq, buffer, starts);
}

/** A FileIo over SimDisk that counts reads of message data files after `counting` is set. */
class CountingIo extends SimDisk {
  reads = 0;
  counting = false;

  override open(path: string, options: { create: boolean }): FileHandle {
    const handle = super.open(path, options);
    if (!/msgs\.\d+\.dat$/.test(path)) return handle;
    const read = handle.read.bind(handle);
    handle.read = (position: number, length: number): Buffer => {
      if (this.counting) this.reads++;
      return read(position, length);
    };
    return handle;
  }
}

async function openChannel(io: FileIo, cacheBytesMax: number, limits = defaultStoreLimits()): Promise<Channel> {
  const store = openStore('/data', { io, file: { cacheBytesMax }, limits });
  await store.recover();
  await store.init(serverInfo());
  return store.createChannel('c');
}

async function storeMany(msgs: MsgStore, count: number, perBatch: number): Promise<void> {
  for (let i = 0; i < count; i += perBatch) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + perBatch); j++) batch.push(message('c', `payload-${j + 1}-${'x'.repeat(j % 50)}`, 1_000n + BigInt(j)));
    await msgs.storeBatch(batch).durable;
  }
}

function expectMessage(msgs: MsgStore, seq: number): void {
  const msg = msgs.lookupSync(seq);
  if (msg === undefined || typeof msg === 'symbol') throw new Error(`message ${seq} missing`);
  expect(msg.sequence).toBe(seq);
  expect(Buffer.from(msg.data).toString()).toBe(`payload-${seq}-${'x'.repeat((seq - 1) % 50)}`);
  expect(msg.timestamp).toBe(1_000n + BigInt(seq - 1));
  // The stored bytes are exactly what encoding the message gives (what a first delivery sends).
  expect(Buffer.from(msgs.lookupEncodedSync!(seq)!).equals(encodeMsgProto(msg))).toBe(true);
}

describe('message cache budget', () => {
  it('evicts the runs admitted first, across channels, and stays within its bytes', () => {
    const budget = new MsgCacheBudget(4_000);
    const a = new ChannelMsgCache(budget);
    const b = new ChannelMsgCache(budget);
    let seqA = 1;
    let seqB = 1;
    for (let i = 0; i < 50; i++) {
      const target = i % 3 === 0 ? b : a;
      const count = 1 + (i % 4);
      if (target === a) {
        a.add(run(seqA, count));
        seqA += count;
      } else {
        b.add(run(seqB, count));
        seqB += count;
      }
      expect(budget.bytes).toBeLessThanOrEqual(4_000);
    }
    // The newest messages of each channel are cached, the oldest are not.
    expect(a.find(seqA - 1)).toBeDefined();
    expect(b.find(seqB - 1)).toBeDefined();
    expect(a.find(1)).toBeUndefined();
    expect(b.find(1)).toBeUndefined();
  });

  it('counts every record byte and frees what a channel releases', () => {
    const budget = new MsgCacheBudget(1_000_000);
    const cache = new ChannelMsgCache(budget);
    const r = run(1, 10, 100);
    cache.add(r);
    expect(r.bytes).toBeGreaterThanOrEqual(10 * 108);
    expect(budget.bytes).toBe(r.bytes);
    cache.add(run(11, 10, 100));
    cache.dropBefore(11);
    expect(cache.find(5)).toBeUndefined();
    expect(cache.find(11)).toBeDefined();
    expect(budget.bytes).toBeLessThan(2 * r.bytes);
    cache.clear();
    expect(budget.bytes).toBe(0);
    expect(cache.find(11)).toBeUndefined();
  });

  it('a run larger than the whole budget is not kept', () => {
    const budget = new MsgCacheBudget(RUN_OVERHEAD_BYTES + 500);
    const cache = new ChannelMsgCache(budget);
    cache.add(run(1, 10, 100));
    expect(budget.bytes).toBe(0);
    expect(cache.find(1)).toBeUndefined();
    cache.add(run(11, 1, 100));
    expect(cache.find(11)).toBeDefined();
  });

  // A clustered node stores each Raft entry as its own batch: one small message per run. The
  // budget must count what such runs really hold, or it bounds a fraction of their memory (with 160
  // bytes of overhead counted, 8 MiB held ~42,000 runs and ~45 MiB; the soak saw it as RSS creep).
  it('counts at least the V8 heap and external memory that single-message runs hold', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const runs = 20_000;
    const budget = new MsgCacheBudget(Number.MAX_SAFE_INTEGER);
    const cache = new ChannelMsgCache(budget);
    const beside: Buffer[] = [];
    gc();
    const before = process.memoryUsage();
    for (let i = 0; i < runs; i++) {
      const msg = { ...emptyMsgProto(), subject: 'c1', data: Buffer.from(`p1-${i}`), timestamp: 1_700_000_000_000_000_000n + BigInt(i) };
      const { buffer, starts } = frameBatch([msg], i, 'c1', () => 0);
      // Its records are an allocation of their own, not a slice of Buffer's shared pool...
      expect(buffer.byteOffset).toBe(0);
      expect(buffer.buffer.byteLength).toBe(buffer.byteLength);
      cache.add(cachedRun(msg.sequence, buffer, starts));
      // ...whose slabs would stay alive with these short-lived buffers a server allocates beside.
      beside.push(Buffer.allocUnsafe(200), Buffer.allocUnsafe(120));
      if (beside.length > 64) beside.length = 0;
    }
    beside.length = 0;
    gc();
    const after = process.memoryUsage();
    const held = after.heapUsed - before.heapUsed + (after.external - before.external);
    expect(cache.find(1)).toBeDefined();
    expect(held / runs).toBeGreaterThan(100);
    expect(held).toBeLessThanOrEqual(budget.bytes);
    gc();
  });

  it('keeps its queue bounded when runs are released without pressure', () => {
    const budget = new MsgCacheBudget(1_000_000_000);
    const cache = new ChannelMsgCache(budget);
    for (let i = 0; i < 10_000; i++) cache.setReadahead(run(1 + i * 2, 2, 10));
    expect(budget.queued).toBeLessThan(3_000);
    expect(cache.find(1 + 9_999 * 2)).toBeDefined();
    expect(cache.find(1)).toBeUndefined();
  });
});

describe('FILE store reads through its cache', () => {
  it('serves recent messages without reading the disk', async () => {
    const io = new CountingIo();
    const channel = await openChannel(io, 32 * 1024 * 1024);
    await storeMany(channel.msgs, 500, 37);
    io.counting = true;
    for (let seq = 1; seq <= 500; seq++) expectMessage(channel.msgs, seq);
    expect(io.reads).toBe(0);
  });

  it('reads messages behind the cache from the disk, many per read, and the same bytes', async () => {
    const io = new CountingIo();
    // Room for the last few hundred messages only, read-ahead in blocks of a quarter of that.
    const channel = await openChannel(io, 40_000);
    await storeMany(channel.msgs, 2_000, 50);
    io.counting = true;
    for (let seq = 1; seq <= 2_000; seq++) {
      const bytes = channel.msgs.lookupEncodedSync!(seq)!;
      expect(decodeMsgProto(bytes).sequence).toBe(seq);
    }
    // ~150 KB of records in 10 KB read-ahead blocks: a few dozen reads, not one per message.
    expect(io.reads).toBeGreaterThan(0);
    expect(io.reads).toBeLessThan(40);
    for (let seq = 1; seq <= 2_000; seq += 7) expectMessage(channel.msgs, seq);
  });

  it('with no cache at all every message still reads back right', async () => {
    const io = new CountingIo();
    const channel = await openChannel(io, 0);
    await storeMany(channel.msgs, 300, 20);
    for (let seq = 1; seq <= 300; seq++) expectMessage(channel.msgs, seq);
  });

  it('never serves a message dropped by limits', async () => {
    const io = new CountingIo();
    const limits = defaultStoreLimits();
    const channel = await openChannel(io, 32 * 1024 * 1024, { ...limits, global: { ...limits.global, maxMsgs: 100 } });
    await storeMany(channel.msgs, 1_000, 30);
    expect(channel.msgs.firstSequence()).toBe(901);
    for (const seq of [1, 450, 900]) {
      expect(channel.msgs.lookupSync(seq)).toBeUndefined();
      expect(channel.msgs.lookupEncodedSync!(seq)).toBeUndefined();
    }
    for (let seq = 901; seq <= 1_000; seq++) expectMessage(channel.msgs, seq);
  });

  it('reads back after a restart, when nothing is cached, and checks what it reads', async () => {
    const io = new CountingIo();
    const store = openStore('/data', { io });
    await store.recover();
    await store.init(serverInfo());
    const channel = await store.createChannel('c');
    await storeMany(channel.msgs, 200, 25);
    await store.close();
    const again = openStore('/data', { io });
    const recovered = (await again.recover())!.channels[0]!.channel;
    for (let seq = 1; seq <= 200; seq++) expectMessage(recovered.msgs, seq);
    await again.close();

    const third = openStore('/data', { io });
    const msgs = (await third.recover())!.channels[0]!.channel.msgs;
    // Damage a payload byte of the last message under the open store: the read-ahead from the
    // first message covers it and reports it rather than handing out what it read.
    const handle = io.open('/data/c/msgs.1.dat', { create: false });
    const at = handle.size() - 20;
    handle.writeAt(at, Buffer.from([handle.read(at, 1)[0]! ^ 0xff]));
    handle.close();
    expect(() => msgs.lookupEncodedSync!(1)).toThrow(/CRC-32/);
  });
});
