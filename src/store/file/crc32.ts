// CRC-32 as the reference server computes it (Go's hash/crc32): reflected polynomial, initial
// value and final xor 0xffffffff. IEEE (0xedb88320) is the default; `--file_crc_poly` picks
// another reflected polynomial, for which a 256-entry table is built.
import { crc32 as zlibCrc32 } from 'node:zlib';

export const CRC32_IEEE = 0xedb88320;
export const CRC32_CASTAGNOLI = 0x82f63b78;

export type Crc32 = (data: Uint8Array) => number;

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

/** A checksum function for `polynomial`; IEEE uses zlib's native implementation. */
export function createCrc32(polynomial: number = CRC32_IEEE): Crc32 {
  const poly = polynomial >>> 0;
  if (poly === CRC32_IEEE) return (data) => zlibCrc32(data) >>> 0;
  const table = makeCrcTable(poly);
  return (data) => tableCrc32(table, data);
}
