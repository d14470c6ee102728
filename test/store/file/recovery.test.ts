// Proves recovery on the simulated disk: a data directory written byte by byte from the format
// description is read back exactly; a torn final record is cut with a warning; damage before the
// tail stops start-up with STORE_CORRUPT naming file and offset, or is cut with truncateBadEof;
// a missing or short index is rebuilt from the data file.
import { describe, expect, it } from 'vitest';
import { SimDisk } from '../../../src/store/file/sim-disk.js';
import { slowCrc32 } from './support/reader.js';
import { capturingLogger, message, openStore, serverInfo } from './support/open.js';

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}
function u64(value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return b;
}
function str(field: number, text: string): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, text.length]), Buffer.from(text)]);
}
function varint(field: number, value: number): Buffer {
  const bytes = [(field << 3) | 0];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}
function record(type: number, payload: Buffer): Buffer {
  return Buffer.concat([u32(type === 0 ? payload.length : (type << 24) | payload.length), u32(slowCrc32(payload)), payload]);
}
const VERSION = u32(1);

function put(disk: SimDisk, path: string, data: Buffer): void {
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  disk.mkdir(parent);
  disk.open(path, { create: true });
  disk.writeFile(path, data);
  void disk.syncDir(parent);
  void disk.syncDir(parent.slice(0, parent.lastIndexOf('/')) || '/');
}

// MsgProto{sequence, subject, data, timestamp}: timestamps kept small to hand-encode varints.
function msgPayload(seq: number, data: string, timestamp: number): Buffer {
  return Buffer.concat([varint(1, seq), str(2, 'foo'), str(4, data), varint(5, timestamp)]);
}

/** A reference-layout directory written by hand; returns the disk. */
function goldenDisk(): SimDisk {
  const disk = new SimDisk();
  put(disk, '/data/server.dat', Buffer.concat([VERSION, record(0, Buffer.concat([str(1, 'golden'), str(3, '_STAN.pub.golden')]))]));
  put(disk, '/data/clients.dat', Buffer.concat([
    VERSION,
    record(1, Buffer.concat([str(1, 'c1'), str(2, '_INBOX.a'), varint(4, 1)])),
    record(1, Buffer.concat([str(1, 'c2'), str(2, '_INBOX.b')])),
    record(2, str(1, 'c2')),
  ]));
  put(disk, '/data/foo/subs.dat', Buffer.concat([
    VERSION,
    record(1, Buffer.concat([varint(1, 7), str(2, 'c1'), str(4, 'in'), str(5, 'ack'), varint(6, 3), varint(7, 30), str(8, 'dur'), varint(10, 1)])),
    record(5, Buffer.concat([varint(1, 7), varint(2, 1)])),
    record(5, Buffer.concat([varint(1, 7), varint(2, 2)])),
    record(4, Buffer.concat([varint(1, 7), varint(2, 1)])),
    record(1, Buffer.concat([varint(1, 8), str(2, 'c1'), str(4, 'in2')])),
    record(3, varint(1, 8)),
  ]));
  const payloads = [msgPayload(1, 'one', 100), msgPayload(2, 'two', 200), msgPayload(3, 'three', 300)];
  const dat: Buffer[] = [VERSION];
  const idx: Buffer[] = [VERSION];
  let offset = 4;
  payloads.forEach((payload, i) => {
    dat.push(record(0, payload));
    const entry = Buffer.concat([u64(BigInt(i + 1)), u64(BigInt(offset)), u64(BigInt((i + 1) * 100)), u32(payload.length)]);
    idx.push(entry, u32(slowCrc32(entry)));
    offset += 8 + payload.length;
  });
  put(disk, '/data/foo/msgs.1.dat', Buffer.concat(dat));
  put(disk, '/data/foo/msgs.1.idx', Buffer.concat(idx));
  return disk;
}

describe('recovery of a hand-written reference directory', () => {
  it('reads back exactly what the bytes say', async () => {
    const disk = goldenDisk();
    const store = openStore('/data', { io: disk });
    const state = await store.recover();
    expect(state?.info).toMatchObject({ clusterId: 'golden', publish: '_STAN.pub.golden', discovery: '' });
    expect(state?.clients).toEqual([
      { id: 'c1', hbInbox: '_INBOX.a', connId: new Uint8Array(0), protocol: 1, pingInterval: 0, pingMaxOut: 0 },
    ]);
    const channel = state!.channels[0]!;
    expect(channel.channel.name).toBe('foo');
    expect(channel.subscriptions).toEqual([{
      sub: {
        id: 7, clientId: 'c1', qGroup: '', inbox: 'in', ackInbox: 'ack', maxInFlight: 3, ackWaitInSecs: 30,
        durableName: 'dur', lastSent: 2, isDurable: true, isClosed: false,
      },
      pending: [2],
    }]);
    const msgs = channel.channel.msgs;
    expect([msgs.firstSequence(), msgs.lastSequence(), msgs.state().msgs]).toEqual([1, 3, 3]);
    const three = await msgs.lookup(3);
    expect(three).toMatchObject({ sequence: 3, subject: 'foo', timestamp: 300n, reply: '' });
    expect(Buffer.from(three!.data).toString()).toBe('three');
    // New IDs and sequences continue after the recovered ones.
    const sub = { ...state!.channels[0]!.subscriptions[0]!.sub, id: 0 };
    channel.channel.subs.createSub(sub);
    expect(sub.id).toBe(9);
    expect(msgs.storeBatch([message('foo', 'four', 400n)]).firstSeq).toBe(4);
    await store.close();
  });
});

async function storeWithMessages(disk: SimDisk, count: number): Promise<void> {
  const store = openStore('/data', { io: disk });
  await store.recover();
  await store.init(serverInfo());
  const channel = await store.createChannel('foo');
  for (let i = 1; i <= count; i++) await channel.msgs.storeBatch([message('foo', `m${i}`, BigInt(i))]).durable;
  await store.close();
}

describe('recovery repairs and refusals', () => {
  it('cuts a torn final record with a warning', async () => {
    const disk = new SimDisk();
    await storeWithMessages(disk, 3);
    const dat = disk.readFile('/data/foo/msgs.1.dat');
    // A fourth record whose write stopped half way (no index entry: it was never acknowledged).
    const torn = record(0, msgPayload(4, 'four', 4)).subarray(0, 10);
    disk.writeFile('/data/foo/msgs.1.dat', Buffer.concat([dat, torn]));
    const { logger, warnings } = capturingLogger();
    const store = openStore('/data', { io: disk, logger });
    const state = await store.recover();
    expect(state!.channels[0]!.channel.msgs.lastSequence()).toBe(3);
    expect(warnings.lines.some((l) => l.msg === 'cutting torn record at end of file')).toBe(true);
    expect(disk.readFile('/data/foo/msgs.1.dat').length).toBe(dat.length);
    // Writing goes on from the cut, and the next start finds every message.
    const foo = state!.channels[0]!.channel;
    await foo.msgs.storeBatch([message('foo', 'm4', 4n), message('foo', 'm5', 5n)]).durable;
    await store.close();
    const again = openStore('/data', { io: disk });
    const next = await again.recover();
    const msgs = next!.channels[0]!.channel.msgs;
    expect(msgs.lastSequence()).toBe(5);
    expect(Buffer.from((await msgs.lookup(4))!.data).toString()).toBe('m4');
    await again.close();
  });

  it('stops on a bit flip before the tail, naming file and offset', async () => {
    const disk = new SimDisk();
    await storeWithMessages(disk, 3);
    const dat = disk.readFile('/data/foo/msgs.1.dat');
    const second = 4 + 8 + dat.readUInt32LE(4);
    dat[second + 12] = dat[second + 12]! ^ 0x01;
    disk.writeFile('/data/foo/msgs.1.dat', dat);
    const store = openStore('/data', { io: disk });
    await expect(store.recover()).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringMatching(new RegExp(`^/data/foo/msgs\\.1\\.dat: CRC-32 mismatch.* at offset ${second}$`)),
    });
    // The failed start released the lock; truncateBadEof cuts at the damage instead.
    const { logger, warnings } = capturingLogger();
    const cut = openStore('/data', { io: disk, logger, file: { truncateBadEof: true } });
    const state = await cut.recover();
    expect(state!.channels[0]!.channel.msgs.lastSequence()).toBe(1);
    expect(warnings.lines.length).toBeGreaterThan(0);
    await cut.close();
  });

  it('stops on a damaged version header; truncateBadEof empties the file instead', async () => {
    const disk = new SimDisk();
    await storeWithMessages(disk, 3);
    const dat = disk.readFile('/data/foo/msgs.1.dat');
    dat.writeUInt32LE(0x23344556, 0);
    disk.writeFile('/data/foo/msgs.1.dat', dat);
    await expect(openStore('/data', { io: disk }).recover()).rejects.toMatchObject({ code: 'STORE_CORRUPT', message: expect.stringMatching(/unsupported file version/) });
    const { logger, warnings } = capturingLogger();
    const cut = openStore('/data', { io: disk, logger, file: { truncateBadEof: true } });
    const state = await cut.recover();
    const msgs = state!.channels[0]!.channel.msgs;
    expect(msgs.lastSequence()).toBe(0);
    expect(warnings.lines.map((line) => line.msg)).toContain('truncate_bad_eof: data file unreadable from its header on; emptied');
    await msgs.storeBatch([message('foo', 'again', 1n)]).durable;
    await cut.close();
    const again = openStore('/data', { io: disk });
    expect((await again.recover())!.channels[0]!.channel.msgs.lastSequence()).toBe(1);
    await again.close();
  });

  it('refuses an indexed message whose record is gone (acknowledged data lost)', async () => {
    const disk = new SimDisk();
    await storeWithMessages(disk, 3);
    const dat = disk.readFile('/data/foo/msgs.1.dat');
    disk.writeFile('/data/foo/msgs.1.dat', dat.subarray(0, dat.length - 3));
    const store = openStore('/data', { io: disk });
    await expect(store.recover()).rejects.toMatchObject({ code: 'STORE_CORRUPT', message: expect.stringMatching(/msgs\.1\.dat: .*message 3 is indexed/) });
  });

  it('rebuilds a missing or short index from the data file', async () => {
    const disk = new SimDisk();
    await storeWithMessages(disk, 5);
    const fullIndex = disk.readFile('/data/foo/msgs.1.idx');
    disk.writeFile('/data/foo/msgs.1.idx', fullIndex.subarray(0, 4 + 2 * 32 + 7));
    let store = openStore('/data', { io: disk });
    let state = await store.recover();
    expect(state!.channels[0]!.channel.msgs.lastSequence()).toBe(5);
    await store.close();
    expect(disk.readFile('/data/foo/msgs.1.idx')).toEqual(fullIndex);
    disk.unlink('/data/foo/msgs.1.idx');
    store = openStore('/data', { io: disk });
    state = await store.recover();
    expect(Buffer.from((await state!.channels[0]!.channel.msgs.lookup(4))!.data).toString()).toBe('m4');
    await store.close();
    expect(disk.readFile('/data/foo/msgs.1.idx')).toEqual(fullIndex);
  });

  it('stops on a damaged subscription record and a bad version header', async () => {
    const disk = goldenDisk();
    const subs = disk.readFile('/data/foo/subs.dat');
    subs[20] = subs[20]! ^ 0x10;
    disk.writeFile('/data/foo/subs.dat', subs);
    await expect(openStore('/data', { io: disk }).recover()).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringContaining('/data/foo/subs.dat: CRC-32 mismatch at offset 4'),
    });
    const other = goldenDisk();
    other.writeFile('/data/clients.dat', Buffer.concat([u32(2), other.readFile('/data/clients.dat').subarray(4)]));
    await expect(openStore('/data', { io: other }).recover()).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringContaining('unsupported file version 2'),
    });
  });

  it('reports damage found when reading a message after start-up', async () => {
    const disk = new SimDisk();
    await storeWithMessages(disk, 3);
    const store = openStore('/data', { io: disk });
    const state = await store.recover();
    const dat = disk.readFile('/data/foo/msgs.1.dat');
    dat[dat.length - 2] = dat[dat.length - 2]! ^ 0x04;
    disk.writeFile('/data/foo/msgs.1.dat', dat);
    const msgs = state!.channels[0]!.channel.msgs;
    expect(Buffer.from((await msgs.lookup(1))!.data).toString()).toBe('m1');
    await expect(msgs.lookup(3)).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringMatching(/^\/data\/foo\/msgs\.1\.dat: message 3: CRC-32 mismatch at offset \d+$/),
    });
    await store.close();
  });
});
