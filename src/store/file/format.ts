// The reference server's on-disk framing (docs/protocol.md §6): every file opens with a 4-byte
// little-endian version (1); records are a 4-byte header (size, or type<<24|size in typed files)
// and a 4-byte CRC-32 of the payload, then the payload; index entries are 32 bytes.
import type { Crc32 } from './crc32.js';

export const FILE_VERSION = 1;
export const FILE_VERSION_SIZE = 4;
export const RECORD_HEADER_SIZE = 8;
export const INDEX_ENTRY_SIZE = 32;
/** Bytes counted per message beyond its payload: record header plus index entry. */
export const MSG_RECORD_OVERHEAD = RECORD_HEADER_SIZE + INDEX_ENTRY_SIZE;
export const TYPED_SIZE_MAX = 0xffffff;

export const FileName = {
  server: 'server.dat',
  clients: 'clients.dat',
  subs: 'subs.dat',
  lock: '.rootdir.lck',
  truncateLock: '.truncate.lck',
} as const;

export const ClientRecord = { add: 1, delete: 2 } as const;
export type ClientRecord = (typeof ClientRecord)[keyof typeof ClientRecord];

export const SubRecord = { create: 1, update: 2, delete: 3, ack: 4, sent: 5 } as const;
export type SubRecord = (typeof SubRecord)[keyof typeof SubRecord];

export function sliceFileNames(slice: number): { dat: string; idx: string } {
  return { dat: `msgs.${slice}.dat`, idx: `msgs.${slice}.idx` };
}

/** Slice number of `msgs.N.dat` / `msgs.N.idx`, or undefined for any other name. */
export function parseSliceName(name: string): { slice: number; kind: 'dat' | 'idx' } | undefined {
  const match = /^msgs\.([1-9][0-9]{0,9})\.(dat|idx)$/.exec(name);
  if (match === null) return undefined;
  return { slice: Number(match[1]), kind: match[2] as 'dat' | 'idx' };
}

export function versionHeader(): Buffer {
  const header = Buffer.alloc(FILE_VERSION_SIZE);
  header.writeUInt32LE(FILE_VERSION, 0);
  return header;
}

/** Bytes of one record framing `payload`; `type` 0 means an untyped file. */
export function recordSize(payloadLength: number): number {
  return RECORD_HEADER_SIZE + payloadLength;
}

/** Writes header, CRC and payload at `offset` of `target`; returns the offset after it. */
export function writeRecord(target: Buffer, offset: number, type: number, payload: Uint8Array, crc: Crc32): number {
  if (type !== 0 && payload.length > TYPED_SIZE_MAX) {
    throw new RangeError(`record of ${payload.length} bytes exceeds the typed record limit`);
  }
  target.writeUInt32LE(type === 0 ? payload.length : ((type << 24) | payload.length) >>> 0, offset);
  target.writeUInt32LE(crc(payload), offset + 4);
  target.set(payload, offset + RECORD_HEADER_SIZE);
  return offset + RECORD_HEADER_SIZE + payload.length;
}

export function encodeRecord(type: number, payload: Uint8Array, crc: Crc32): Buffer {
  const buffer = Buffer.allocUnsafe(recordSize(payload.length));
  writeRecord(buffer, 0, type, payload, crc);
  return buffer;
}

export interface IndexEntry {
  readonly seq: number;
  /** Position of the message's record in the .dat file. */
  readonly offset: number;
  /** Message timestamp, nanoseconds since the epoch. */
  readonly timestamp: bigint;
  /** Size of the message payload (protobuf), without the record header. */
  readonly size: number;
}

export function writeIndexEntry(target: Buffer, offset: number, entry: IndexEntry, crc: Crc32): number {
  target.writeBigUInt64LE(BigInt(entry.seq), offset);
  target.writeBigUInt64LE(BigInt(entry.offset), offset + 8);
  target.writeBigInt64LE(entry.timestamp, offset + 16);
  target.writeUInt32LE(entry.size, offset + 24);
  target.writeUInt32LE(crc(target, offset, offset + 28), offset + 28);
  return offset + INDEX_ENTRY_SIZE;
}

export type IndexRead =
  | { readonly type: 'entry'; readonly entry: IndexEntry }
  | { readonly type: 'zero' }
  | { readonly type: 'bad-crc' };

/** Decodes the entry at `offset` (which must have 32 bytes available). */
export function readIndexEntry(source: Buffer, offset: number, crc: Crc32 | undefined): IndexRead {
  const raw = source.subarray(offset, offset + INDEX_ENTRY_SIZE);
  if (raw.every((byte) => byte === 0)) return { type: 'zero' };
  if (crc !== undefined && crc(raw.subarray(0, 28)) !== raw.readUInt32LE(28)) return { type: 'bad-crc' };
  const seq = raw.readBigUInt64LE(0);
  const position = raw.readBigUInt64LE(8);
  if (seq > BigInt(Number.MAX_SAFE_INTEGER) || position > BigInt(Number.MAX_SAFE_INTEGER)) return { type: 'bad-crc' };
  return {
    type: 'entry',
    entry: { seq: Number(seq), offset: Number(position), timestamp: raw.readBigInt64LE(16), size: raw.readUInt32LE(24) },
  };
}
