// Byte layouts of what the Raft store keeps in LevelDB. Keys sort by index because the index is
// big-endian; every value carries a CRC-32C over everything after it, so a damaged record is
// found when it is read instead of being handed to the core.
//
// Entry key:   'e' | index u64 BE
// Entry value: version u8 | crc32c u32 | index u64 | term u64 | type u8 | data
//   version 1: data in clear; version 2 (encryption at rest): data sealed in the store's payload
//   format (src/store/crypto/payload-cipher.ts) with the 17 bytes index | term | type as associated
//   data, so a sealed body cannot be moved to another entry. The CRC covers the sealed bytes.
// Meta key:    'm' | name (ascii)
// Meta value:  version u8 | crc32c u32 | msgpack body

import { pack, unpack } from 'msgpackr';
import { StoreCorruptError, TstanError } from '../../util/errors.js';
import type { PayloadCipher } from '../crypto/payload-cipher.js';
import { EntryType, type Entry } from '../../raft/types.js';
import { crc32c } from './crc32c.js';

const RECORD_VERSION = 1;
const SEALED_ENTRY_VERSION = 2;
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

/** Stable code of the error for entries that do not open with the key given (or with none). */
export const ENTRY_KEY_ERROR_CODE = 'STORE_ENCRYPTION_KEY';

/**
 * Encodes an entry; with a cipher, a Normal entry's data (the streaming operations, message
 * payloads included) is sealed. Configuration changes and no-ops stay in clear.
 */
export function encodeEntry(entry: Entry, cipher?: PayloadCipher): Buffer {
  const sealing = cipher !== undefined && entry.type === EntryType.Normal && entry.data.length > 0;
  const header = Buffer.allocUnsafe(ENTRY_HEADER_BYTES);
  header[0] = sealing ? SEALED_ENTRY_VERSION : RECORD_VERSION;
  writeU64(header, 5, entry.index);
  writeU64(header, 13, entry.term);
  header[21] = entry.type;
  const data = sealing ? cipher.seal(entry.data, header.subarray(5)) : entry.data;
  const value = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + data.length);
  header.copy(value, 0);
  value.set(data, ENTRY_HEADER_BYTES);
  value.writeUInt32BE(crc32c(value.subarray(5)), 1);
  return value;
}

/** True when the stored entry value holds sealed data (encryption at rest). */
export function isSealedEntry(value: Buffer): boolean {
  return value[0] === SEALED_ENTRY_VERSION;
}

function isEntryType(value: number): value is EntryType {
  return value === EntryType.Normal || value === EntryType.ConfigChange || value === EntryType.Noop;
}

/**
 * Decodes and verifies an entry read under the key of `expectedIndex`. Any mismatch (length,
 * version, checksum, index, type) is a StoreCorruptError naming the index. A sealed entry is
 * opened with `cipher`; with `headerOnly` its data is left sealed (checks that need index and
 * term only). One that cannot be opened is a TstanError ENTRY_KEY_ERROR_CODE.
 */
export function decodeEntry(value: Buffer, expectedIndex: number, where: string, cipher?: PayloadCipher, headerOnly = false): Entry {
  const fail = (why: string): never => {
    throw new StoreCorruptError(`${where}: raft log entry ${expectedIndex} is damaged: ${why}`);
  };
  if (value.length < ENTRY_HEADER_BYTES) fail(`record of ${value.length} bytes is too short`);
  const version = value[0];
  if (version !== RECORD_VERSION && version !== SEALED_ENTRY_VERSION) fail(`unknown record version ${version}`);
  const stored = value.readUInt32BE(1);
  const computed = crc32c(value.subarray(5));
  if (stored !== computed) fail(`checksum mismatch (stored ${stored}, computed ${computed})`);
  const index = readU64(value, 5);
  if (index !== expectedIndex) fail(`record carries index ${index}`);
  const type = value[21]!;
  if (!isEntryType(type)) fail(`unknown entry type ${type}`);
  let data: Uint8Array = value.subarray(ENTRY_HEADER_BYTES);
  if (version === SEALED_ENTRY_VERSION && !headerOnly) data = openEntryData(data, value.subarray(5, ENTRY_HEADER_BYTES), expectedIndex, where, cipher);
  return {
    index,
    term: readU64(value, 13),
    type: type as EntryType,
    data,
  };
}

function openEntryData(sealed: Uint8Array, associated: Buffer, index: number, where: string, cipher: PayloadCipher | undefined): Uint8Array {
  if (cipher === undefined) {
    throw new TstanError(ENTRY_KEY_ERROR_CODE, `${where}: raft log entry ${index} is encrypted: start the node with -encrypt and its key`);
  }
  try {
    return cipher.open(sealed, associated);
  } catch (cause) {
    // The CRC passed, so the bytes are as written: the key is not the one they were sealed with.
    throw new TstanError(ENTRY_KEY_ERROR_CODE, `${where}: raft log entry ${index} does not decrypt with the encryption key given (wrong key)`, { cause });
  }
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
