// CRC-32 as the reference server computes it (Go's hash/crc32): reflected polynomial, initial
// value and final xor 0xffffffff. IEEE (0xedb88320) is the default; `--file_crc_poly` picks
// another reflected polynomial, for which a 256-entry table is built.
import { crc32 as zlibCrc32 } from 'node:zlib';

export const CRC32_IEEE = 0xedb88320;
export const CRC32_CASTAGNOLI = 0x82f63b78;

/** CRC-32 of `data[start, end)` (the whole array by default). */
export type Crc32 = (data: Uint8Array, start?: number, end?: number) => number;

export function makeCrcTable(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ polynomial : crc >>> 1;
    table[i] = crc >>> 0;
  }
  return table;
}

export function tableCrc32(table: Uint32Array, data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    crc = (table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)) >>> 0;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Eight tables for slicing-by-8: table k maps a byte seen k positions earlier. */
export function makeSlicingTables(polynomial: number): Uint32Array {
  const base = makeCrcTable(polynomial);
  const tables = new Uint32Array(256 * 8);
  tables.set(base);
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const previous = tables[(k - 1) * 256 + i]!;
      tables[k * 256 + i] = (base[previous & 0xff]! ^ (previous >>> 8)) >>> 0;
    }
  }
  return tables;
}

/** Slicing-by-8 CRC-32: eight bytes per step, which beats a native call on short records. */
export function slicingCrc32(t: Uint32Array, data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffffffff;
  let i = start;
  const end8 = end - ((end - start) & 7);
  while (i < end8) {
    const lo = (crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    crc =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
    i += 8;
  }
  while (i < end) crc = t[(crc ^ data[i++]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * Records shorter than this go through the JS loop; longer ones through zlib (IEEE only), which
 * also needs a view of the record. Measured on Node 20: 284 ns against 340 at 160 bytes (a
 * 128-byte message), 307 against 332 at 200, 467 against 261 at 300.
 */
const NATIVE_FROM_BYTES = 224;

/** A checksum function for `polynomial`; long IEEE inputs use zlib's native implementation. */
export function createCrc32(polynomial: number = CRC32_IEEE): Crc32 {
  const poly = polynomial >>> 0;
  const tables = makeSlicingTables(poly);
  if (poly === CRC32_IEEE) {
    return (data, start = 0, end = data.length) =>
      end - start >= NATIVE_FROM_BYTES
        ? zlibCrc32(start === 0 && end === data.length ? data : data.subarray(start, end)) >>> 0
        : slicingCrc32(tables, data, start, end);
  }
  return (data, start = 0, end = data.length) => slicingCrc32(tables, data, start, end);
}
