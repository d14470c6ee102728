// Proves the on-disk format byte by byte: files written by hand from docs/protocol.md §6 (version
// header, record framing with CRC-32, typed headers, 32-byte index entries) are read back exactly
// by the store, and the CRC-32 tables match the reference's IEEE and Castagnoli values.
import { describe, expect, it } from 'vitest';
import { createCrc32, CRC32_CASTAGNOLI, CRC32_IEEE, makeCrcTable, tableCrc32 } from '../../../src/store/file/crc32.js';
import { encodeRecord, readIndexEntry, writeIndexEntry, INDEX_ENTRY_SIZE } from '../../../src/store/file/format.js';
import { Slice } from '../../../src/store/file/msg-slice.js';
import { scanRecords } from '../../../src/store/file/scan.js';
import { slowCrc32 } from './support/reader.js';

const check = Buffer.from('123456789');

describe('crc32', () => {
  it('gives the standard check values', () => {
    expect(createCrc32(CRC32_IEEE)(check)).toBe(0xcbf43926);
    expect(createCrc32(CRC32_CASTAGNOLI)(check)).toBe(0xe3069283);
    expect(createCrc32(0xeb31d82e)(check)).toBe(0x2d3dd0ae); // CRC-32K (Koopman), reflected
  });

  it('table and zlib agree with the bit-at-a-time CRC on random data', () => {
    const table = makeCrcTable(CRC32_IEEE);
    for (let n = 0; n < 50; n++) {
      const data = Buffer.from(Array.from({ length: n * 7 }, (_, i) => (i * 31 + n) & 0xff));
      expect(tableCrc32(table, data)).toBe(slowCrc32(data));
      expect(createCrc32()(data)).toBe(slowCrc32(data));
      expect(createCrc32(CRC32_CASTAGNOLI)(data)).toBe(slowCrc32(data, CRC32_CASTAGNOLI));
    }
  });
});

describe('record framing', () => {
  it('writes an untyped record as size, CRC, payload (little-endian)', () => {
    const payload = Buffer.from([0x08, 0x01]);
    const record = encodeRecord(0, payload, createCrc32());
    const crc = slowCrc32(payload);
    expect([...record]).toEqual([
      0x02, 0x00, 0x00, 0x00,
      crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24,
      0x08, 0x01,
    ]);
  });

  it('puts the record type in the high byte of a typed header', () => {
    const payload = Buffer.alloc(300, 7);
    const record = encodeRecord(5, payload, createCrc32());
    expect([...record.subarray(0, 4)]).toEqual([0x2c, 0x01, 0x00, 0x05]);
  });

  it('reads hand-made typed records back with their offsets', () => {
    const a = Buffer.from([0x0a, 0x01, 0x61]); // ClientInfo{ID:"a"}
    const b = Buffer.from([0x0a, 0x01, 0x61]); // ClientDelete{ID:"a"}
    const file = Buffer.concat([
      Buffer.from([1, 0, 0, 0]),
      Buffer.from([3, 0, 0, 1]), u32(slowCrc32(a)), a,
      Buffer.from([3, 0, 0, 2]), u32(slowCrc32(b)), b,
    ]);
    const seen: Array<[number, number, string]> = [];
    const result = scanRecords(file, { typed: true, crc: createCrc32(), types: new Set([1, 2]) }, (offset, type, payload) => {
      seen.push([offset, type, payload.toString('hex')]);
      return undefined;
    });
    expect(seen).toEqual([[4, 1, '0a0161'], [15, 2, '0a0161']]);
    expect(result).toEqual({ goodEnd: file.length, end: { kind: 'clean' } });
  });

  it('tells a torn tail from a damaged record', () => {
    const a = Buffer.from([0x08, 0x01]);
    const good = Buffer.concat([Buffer.from([1, 0, 0, 0]), Buffer.from([2, 0, 0, 0]), u32(slowCrc32(a)), a]);
    const options = { typed: false, crc: createCrc32() };
    const none = (): undefined => undefined;
    expect(scanRecords(good.subarray(0, good.length - 1), options, none).end.kind).toBe('torn');
    expect(scanRecords(Buffer.concat([good, Buffer.alloc(5)]), options, none).end.kind).toBe('torn');
    expect(scanRecords(Buffer.concat([good, Buffer.alloc(16)]), options, none).end.kind).toBe('torn');
    const flipped = Buffer.from(good);
    flipped[9] = flipped[9]! ^ 0x40;
    expect(scanRecords(flipped, options, none)).toEqual({
      goodEnd: 4,
      end: { kind: 'corrupt', offset: 4, reason: 'CRC-32 mismatch' },
    });
  });
});

describe('index entries', () => {
  it('a slice writes its entries exactly as writeIndexEntry does, for values past 32 bits', () => {
    const crc = createCrc32();
    const slice = new Slice(1, undefined as never, undefined as never);
    const entries = [
      { seq: 2 ** 40 + 1, offset: 4, timestamp: 1_700_000_000_123_456_789n, size: 17 },
      { seq: 2 ** 40 + 2, offset: 2 ** 33 + 5, timestamp: -5n, size: 0xfffffff0 },
      { seq: 2 ** 40 + 3, offset: 2 ** 52, timestamp: 2n ** 63n - 1n, size: 0 },
    ];
    for (const entry of entries) slice.push(entry.seq, entry.offset, entry.size, entry.timestamp);
    const expected = Buffer.alloc(entries.length * INDEX_ENTRY_SIZE);
    entries.forEach((entry, i) => writeIndexEntry(expected, i * INDEX_ENTRY_SIZE, entry, crc));
    expect(slice.takeUnindexed(crc, entries.length)).toEqual(expected);
  });

  it('lays out seq, offset, timestamp, size and CRC of the first 28 bytes', () => {
    const buffer = Buffer.alloc(INDEX_ENTRY_SIZE);
    writeIndexEntry(buffer, 0, { seq: 258, offset: 4, timestamp: 1_700_000_000_123_456_789n, size: 17 }, createCrc32());
    const expected = Buffer.concat([
      Buffer.from([0x02, 0x01, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0x04, 0, 0, 0, 0, 0, 0, 0]),
      i64(1_700_000_000_123_456_789n),
      Buffer.from([17, 0, 0, 0]),
    ]);
    expect(buffer.subarray(0, 28)).toEqual(expected);
    expect(buffer.readUInt32LE(28)).toBe(slowCrc32(expected));
    expect(readIndexEntry(buffer, 0, createCrc32())).toEqual({
      type: 'entry',
      entry: { seq: 258, offset: 4, timestamp: 1_700_000_000_123_456_789n, size: 17 },
    });
    buffer[3] = buffer[3]! ^ 1;
    expect(readIndexEntry(buffer, 0, createCrc32()).type).toBe('bad-crc');
    expect(readIndexEntry(Buffer.alloc(32), 0, createCrc32()).type).toBe('zero');
  });
});

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

function i64(value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(value);
  return b;
}
