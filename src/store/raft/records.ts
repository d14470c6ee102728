// Byte layouts of what the Raft store keeps in LevelDB. Keys sort by index because the index is
// big-endian; every value carries a CRC-32C over everything after it, so a damaged record is
// found when it is read instead of being handed to the core.
//
// Entry key:   'e' | index u64 BE
// Entry value: version u8 | crc32c u32 | index u64 | term u64 | type u8 | data
// Meta key:    'm' | name (ascii)
// Meta value:  version u8 | crc32c u32 | msgpack body

import { pack, unpack } from 'msgpackr';
import { StoreCorruptError } from '../../util/errors.js';
import { EntryType, type Entry } from '../../raft/types.js';
import { crc32c } from './crc32c.js';

const RECORD_VERSION = 1;
const ENTRY_PREFIX = 0x65; // 'e'
const META_PREFIX = 0x6d; // 'm'
const ENTRY_HEADER_BYTES = 1 + 4 + 8 + 8 + 1;
const META_HEADER_BYTES = 1 + 4;
const TWO_POW_32 = 0x1_0000_0000;

export const ENTRY_KEY_BYTES = 9;

/** Lowest and highest possible entry keys, for iterator bounds. */
export const ENTRY_KEY_MIN = entryKey(0);
export const ENTRY_KEY_MAX = entryKey(Number.MAX_SAFE_INTEGER);

function writeU64(target: Buffer, offset: number, value: number): void {
  target.writeUInt32BE(Math.floor(value / TWO_POW_32), offset);
  target.writeUInt32BE(value >>> 0, offset + 4);
}

function readU64(source: Buffer, offset: number): number {
  return source.readUInt32BE(offset) * TWO_POW_32 + source.readUInt32BE(offset + 4);
}

export function entryKey(index: number): Buffer {
  const key = Buffer.allocUnsafe(ENTRY_KEY_BYTES);
  key[0] = ENTRY_PREFIX;
  writeU64(key, 1, index);
  return key;
}

/** The index of an entry key, or undefined if the key is not an entry key. */
export function indexOfEntryKey(key: Buffer): number | undefined {
  if (key.length !== ENTRY_KEY_BYTES || key[0] !== ENTRY_PREFIX) return undefined;
  return readU64(key, 1);
}

export function metaKey(name: string): Buffer {
  return Buffer.concat([Buffer.of(META_PREFIX), Buffer.from(name, 'ascii')]);
}

export const HARD_STATE_KEY = metaKey('hardstate');
export const SNAPSHOT_POINT_KEY = metaKey('snapshotpoint');

export function encodeEntry(entry: Entry): Buffer {
  const value = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + entry.data.length);
  value[0] = RECORD_VERSION;
  writeU64(value, 5, entry.index);
  writeU64(value, 13, entry.term);
  value[21] = entry.type;
  value.set(entry.data, ENTRY_HEADER_BYTES);
  value.writeUInt32BE(crc32c(value.subarray(5)), 1);
  return value;
}

function isEntryType(value: number): value is EntryType {
  return value === EntryType.Normal || value === EntryType.ConfigChange || value === EntryType.Noop;
}

/**
 * Decodes and verifies an entry read under the key of `expectedIndex`. Any mismatch (length,
 * version, checksum, index, type) is a StoreCorruptError naming the index.
 */
export function decodeEntry(value: Buffer, expectedIndex: number, where: string): Entry {
  const fail = (why: string): never => {
    throw new StoreCorruptError(`${where}: raft log entry ${expectedIndex} is damaged: ${why}`);
  };
  if (value.length < ENTRY_HEADER_BYTES) fail(`record of ${value.length} bytes is too short`);
  if (value[0] !== RECORD_VERSION) fail(`unknown record version ${value[0]}`);
  const stored = value.readUInt32BE(1);
  const computed = crc32c(value.subarray(5));
  if (stored !== computed) fail(`checksum mismatch (stored ${stored}, computed ${computed})`);
  const index = readU64(value, 5);
  if (index !== expectedIndex) fail(`record carries index ${index}`);
  const type = value[21]!;
  if (!isEntryType(type)) fail(`unknown entry type ${type}`);
  return {
    index,
    term: readU64(value, 13),
    type: type as EntryType,
    data: value.subarray(ENTRY_HEADER_BYTES),
  };
}

export function encodeMeta(body: unknown): Buffer {
  const packed = pack(body);
  const value = Buffer.allocUnsafe(META_HEADER_BYTES + packed.length);
  value[0] = RECORD_VERSION;
  value.set(packed, META_HEADER_BYTES);
  value.writeUInt32BE(crc32c(packed), 1);
  return value;
}

export function decodeMeta(value: Buffer, name: string, where: string): unknown {
  const fail = (why: string): never => {
    throw new StoreCorruptError(`${where}: raft metadata '${name}' is damaged: ${why}`);
  };
  if (value.length < META_HEADER_BYTES) fail(`record of ${value.length} bytes is too short`);
  if (value[0] !== RECORD_VERSION) fail(`unknown record version ${value[0]}`);
  const body = value.subarray(META_HEADER_BYTES);
  if (value.readUInt32BE(1) !== crc32c(body)) fail('checksum mismatch');
  try {
    return unpack(body);
  } catch (error) {
    return fail(`undecodable body (${String(error)})`);
  }
}

/** Approximate in-memory size of an entry, for byte-bounded reads. */
export function entryBytes(entry: Entry): number {
  return ENTRY_HEADER_BYTES + entry.data.length;
}
