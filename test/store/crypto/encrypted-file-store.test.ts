// Proves encryption at rest on the FILE store: a data directory holding payloads sealed as the
// reference seals them (written byte by byte) opens with the key, and a wrong key stops recovery
// with an error naming the channel; payloads never reach the disk in clear; a flipped bit in a
// sealed record is reported as corruption, with or without the CRC check, never delivered. Reads
// of messages no longer among the recent plaintext ones go through the store's encoded records
// (its read-ahead) and are opened once for all readers.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimDisk } from '../../../src/store/file/sim-disk.js';
import { slowCrc32 } from '../file/support/reader.js';
import { message, openStore, serverInfo } from '../file/support/open.js';
import { encodeMsgProto, type MsgProto } from '../../../src/store/records.js';
import { encrypted, TEST_KEY } from './support.js';
import { PayloadCipher } from '../../../src/store/crypto/payload-cipher.js';

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}
function u64(value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value));
  return b;
}
function bytesField(field: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, data.length]), data]);
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
function record(payload: Buffer): Buffer {
  return Buffer.concat([u32(payload.length), u32(slowCrc32(payload)), payload]);
}
function put(disk: SimDisk, path: string, data: Buffer): void {
  const parent = path.slice(0, path.lastIndexOf('/'));
  disk.mkdir(parent);
  disk.open(path, { create: true });
  disk.writeFile(path, data);
  void disk.syncDir(parent);
  void disk.syncDir(parent.slice(0, parent.lastIndexOf('/')) || '/');
}

// Sealed by fixtures/reference-vector.py for key "testkey", channel "foo".
const SEALED_AES_MSG0 = Buffer.from('01a1b2c3d4000000000000002a1fcaec63d1550cc2cae08cb298ac883452f236cb', 'hex');
const SEALED_CHACHA_HELLO = Buffer.from(
  '02a1b2c3d4000000000000002b444e91d41319453e9111f74402511c093fdf6895cacb3e3e78a41cba4bd6adf6b74eb3fbcaa7',
  'hex',
);

/** A reference FILE store whose channel foo holds a clear message, then two sealed ones (AES, ChaCha). */
function referenceEncryptedDisk(): SimDisk {
  const disk = new SimDisk();
  put(disk, '/data/server.dat', Buffer.concat([u32(1), record(bytesField(1, Buffer.from('golden')))]));
  put(disk, '/data/clients.dat', u32(1));
  put(disk, '/data/foo/subs.dat', u32(1));
  const payloads = [Buffer.from('plain'), SEALED_AES_MSG0, SEALED_CHACHA_HELLO].map((data, i) =>
    Buffer.concat([varint(1, 41 + i), bytesField(2, Buffer.from('foo')), bytesField(4, data), varint(5, 100 + i)]),
  );
  const dat: Buffer[] = [u32(1)];
  const idx: Buffer[] = [u32(1)];
  let offset = 4;
  payloads.forEach((payload, i) => {
    dat.push(record(payload));
    const entry = Buffer.concat([u64(41 + i), u64(offset), u64(100 + i), u32(payload.length)]);
    idx.push(entry, u32(slowCrc32(entry)));
    offset += 8 + payload.length;
  });
  put(disk, '/data/foo/msgs.1.dat', Buffer.concat(dat));
  put(disk, '/data/foo/msgs.1.idx', Buffer.concat(idx));
  return disk;
}

async function texts(store: ReturnType<typeof encrypted>, seqs: number[]): Promise<string[]> {
  const channel = store.lookupChannel('foo')!;
  const out: string[] = [];
  for (const seq of seqs) out.push(Buffer.from((await channel.msgs.lookup(seq))!.data).toString());
  return out;
}

describe('a reference-encrypted data directory', () => {
  it('opens with the key: sealed payloads (either cipher) in clear, clear ones as they are', async () => {
    const store = encrypted(openStore('/data', { io: referenceEncryptedDisk() }));
    const state = await store.recover();
    expect(state?.channels.map((c) => c.channel.name)).toEqual(['foo']);
    expect(await texts(store, [41, 42, 43])).toEqual(['plain', 'msg0', 'hello, encrypted world']);
    expect(Buffer.from((await state!.channels[0]!.channel.msgs.firstMsg())!.data).toString()).toBe('plain');
    expect(Buffer.from((await state!.channels[0]!.channel.msgs.lastMsg())!.data).toString()).toBe('hello, encrypted world');
    await store.close();
  });

  it('without the wrapper, the store holds only the sealed bytes', async () => {
    const store = openStore('/data', { io: referenceEncryptedDisk() });
    await store.recover();
    expect(Buffer.from((await store.lookupChannel('foo')!.msgs.lookup(42))!.data)).toEqual(SEALED_AES_MSG0);
    await store.close();
  });

  it('reads behind the recent messages through the encoded records, opening each once', async () => {
    const inner = openStore('/data', { io: referenceEncryptedDisk() });
    const store = encrypted(inner);
    await store.recover();
    const innerMsgs = inner.lookupChannel('foo')!.msgs;
    const encodedReads: number[] = [];
    const lookupEncodedSync = innerMsgs.lookupEncodedSync!.bind(innerMsgs);
    innerMsgs.lookupEncodedSync = (seq) => (encodedReads.push(seq), lookupEncodedSync(seq));
    const singleReads: number[] = [];
    const lookupSync = innerMsgs.lookupSync.bind(innerMsgs);
    innerMsgs.lookupSync = (seq) => (singleReads.push(seq), lookupSync(seq));
    const opens = vi.spyOn(PayloadCipher.prototype, 'open');
    try {
      const { msgs } = store.lookupChannel('foo')!;
      const first = [41, 42, 43].map((seq) => msgs.lookupSync(seq) as MsgProto);
      expect(first.map((m) => Buffer.from(m.data).toString())).toEqual(['plain', 'msg0', 'hello, encrypted world']);
      expect(first.map((m) => [m.sequence, m.subject, m.timestamp])).toEqual([[41, 'foo', 100n], [42, 'foo', 101n], [43, 'foo', 102n]]);
      expect(encodedReads).toEqual([41, 42, 43]);
      expect(singleReads).toEqual([]);
      // 41 was stored in clear; 42 and 43 are opened, once.
      expect(opens).toHaveBeenCalledTimes(2);
      // What delivery sends: the store's bytes with the payload in clear, as if encoded afresh.
      for (const [i, seq] of [41, 42, 43].entries()) expect(Buffer.from(msgs.lookupEncodedSync!(seq)!)).toEqual(encodeMsgProto(first[i]!));
      // A second reader (another subscriber catching up) gets the opened messages, opening nothing.
      expect([41, 42, 43].map((seq) => msgs.lookupSync(seq))).toEqual(first);
      expect([42, 43].every((seq) => msgs.lookupEncodedSync!(seq) === msgs.lookupEncodedSync!(seq))).toBe(true); // the memo's
      expect(opens).toHaveBeenCalledTimes(2);
    } finally {
      opens.mockRestore();
    }
    const { msgs } = store.lookupChannel('foo')!;
    expect(msgs.lookupSync(44)).toBeUndefined();
    await store.close();
  });

  it('refuses to recover with a wrong key, naming the channel', async () => {
    const store = encrypted(openStore('/data', { io: referenceEncryptedDisk() }), 'AES', 'wrongkey');
    await expect(store.recover()).rejects.toMatchObject({ code: 'STORE_ENCRYPTION_KEY', message: expect.stringContaining('channel "foo"') });
  });
});

describe.each(['AES', 'CHACHA'] as const)('encrypted FILE store on a real disk (%s)', (cipher) => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tstan-encrypted-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function filled(file: { crc?: boolean } = {}): Promise<void> {
    const store = encrypted(openStore(dir, { file }), cipher);
    expect(await store.recover()).toBeUndefined();
    await store.init(serverInfo());
    const { msgs } = await store.createChannel('foo');
    await msgs.storeBatch([1, 2, 3, 4, 5].map((i) => message('foo', `secret-payload-${i}`, 1n))).durable;
    await store.close();
  }

  async function allBytes(root: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (const entry of await readdir(root, { recursive: true })) {
      const path = join(root, entry);
      if ((await stat(path)).isFile()) parts.push(await readFile(path));
    }
    return Buffer.concat(parts);
  }

  it('never writes a payload in clear, and reads it back after a restart', async () => {
    await filled();
    const disk = await allBytes(dir);
    expect(disk.includes('secret-payload')).toBe(false);
    expect(disk.includes('foo')).toBe(true); // subjects and names are not encrypted, as in the reference
    const store = encrypted(openStore(dir), cipher);
    await store.recover();
    expect(await texts(store, [1, 5])).toEqual(['secret-payload-1', 'secret-payload-5']);
    // Sealing goes on after a restart with a nonce counter past the last sequence.
    const { msgs } = store.lookupChannel('foo')!;
    // Delivery sends a store's encoded records as they are: an encrypting store's are in clear.
    const encoded = msgs.lookupEncodedSync!(2)!;
    expect(Buffer.from(encoded).equals(encodeMsgProto(msgs.lookupSync(2) as MsgProto))).toBe(true);
    expect(Buffer.from(encoded).includes('secret-payload-2')).toBe(true);
    expect(msgs.lookupEncodedSync!(99)).toBeUndefined();
    await msgs.storeBatch([message('foo', 'after', 2n)]).durable;
    await store.close();
    const raw = openStore(dir);
    await raw.recover();
    const sealed = Buffer.from((await raw.lookupChannel('foo')!.msgs.lookup(6))!.data);
    expect(sealed.readBigUInt64BE(5)).toBe(6n);
    await raw.close();
  });

  it('gives delivery the clear bytes of what was just stored, and the same message after', async () => {
    const store = encrypted(openStore(dir), cipher);
    await store.recover();
    await store.init(serverInfo());
    const { msgs } = await store.createChannel('foo');
    const stored = [1, 2, 3].map((i) => message('foo', `live-${i}`, BigInt(i)));
    await msgs.storeBatch(stored).durable;
    const copies = stored.map((m) => ({ ...m, data: Buffer.from(m.data) }));
    for (const [i, msg] of copies.entries()) {
      const bytes = msgs.lookupEncodedSync!(i + 1)!;
      expect(Buffer.from(bytes)).toEqual(encodeMsgProto(msg));
      // the same bytes for every subscriber: views of the cached ones, nothing made per delivery
      const again = msgs.lookupEncodedSync!(i + 1)!;
      expect([again.buffer, again.byteOffset, again.length]).toEqual([bytes.buffer, bytes.byteOffset, bytes.length]);
      expect(msgs.lookupSync(i + 1)).toEqual({ ...msg, data: expect.anything() });
      expect(Buffer.from((msgs.lookupSync(i + 1) as MsgProto).data)).toEqual(msg.data);
      expect(Buffer.from((await msgs.lookup(i + 1))!.data)).toEqual(msg.data);
    }
    await store.close();
  });

  async function flipInRecord(seq: number): Promise<void> {
    const path = join(dir, 'foo', 'msgs.1.dat');
    const raw = openStore(dir);
    await raw.recover();
    const sealed = Buffer.from((await raw.lookupChannel('foo')!.msgs.lookup(seq))!.data);
    await raw.close();
    const data = await readFile(path);
    const where = data.indexOf(sealed);
    expect(where).toBeGreaterThan(0);
    data[where + 20]! ^= 0x10;
    await writeFile(path, data);
  }

  it('reports a flipped bit in a sealed record as corruption (CRC on)', async () => {
    await filled();
    await flipInRecord(3);
    const store = encrypted(openStore(dir), cipher);
    const outcome = await store.recover().then(
      async () => store.lookupChannel('foo')!.msgs.lookup(3),
      (error: unknown) => error,
    );
    expect(outcome).toMatchObject({ code: 'STORE_CORRUPT' });
    await store.close();
  });

  it('reports a flipped bit in a sealed record as corruption with -file_crc=false too, delivering nothing', async () => {
    await filled({ crc: false });
    await flipInRecord(3);
    const store = encrypted(openStore(dir, { file: { crc: false } }), cipher);
    await store.recover();
    const { msgs } = store.lookupChannel('foo')!;
    expect(() => msgs.lookupSync(3)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT', message: expect.stringContaining('message 3') }) as Error);
    await expect(msgs.lookup(3)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    expect(await texts(store, [2, 4])).toEqual(['secret-payload-2', 'secret-payload-4']);
    await store.close();
  });

  it('starts with the right key when only the newest record is damaged, which then reads as damage', async () => {
    await filled({ crc: false });
    await flipInRecord(5);
    const store = encrypted(openStore(dir, { file: { crc: false } }), cipher);
    await store.recover();
    await expect(store.lookupChannel('foo')!.msgs.lookup(5)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    expect(await texts(store, [4])).toEqual(['secret-payload-4']);
    await store.close();
  });

  it('refuses a wrong key at recovery, naming the channel', async () => {
    await filled();
    const store = encrypted(openStore(dir), cipher, 'not-' + TEST_KEY);
    await expect(store.recover()).rejects.toMatchObject({ code: 'STORE_ENCRYPTION_KEY', message: expect.stringMatching(/channel "foo".*encryption key/) });
  });
});
