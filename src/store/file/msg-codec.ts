// Messages to and from their records: a batch is checked, given its sequences and encoded before
// anything is stored (all or nothing); a stored message is read back with its framing and CRC
// checked against the in-memory index.
import { TstanError } from '../../util/errors.js';
import { decodeMsgProto, encodeMsgProtoInto, encodedMsgProtoSize, RecordInvalidError, type MsgProto } from '../records.js';
import { StoreErrorCode } from '../types.js';
import type { Crc32 } from './crc32.js';
import { RECORD_HEADER_SIZE } from './format.js';
import type { Slice } from './msg-slice.js';
import { corrupt } from './recover.js';
import { cachedRun, type CachedRun } from './msg-cache.js';

/** A batch framed as the .dat records it becomes, in one buffer. */
export interface FramedBatch {
  readonly buffer: Buffer;
  /** Start of each message's record (its header) in `buffer`. */
  readonly starts: Uint32Array;
}

/**
 * Assigns sequences after `last` (in place), encodes every message and frames it as a record
 * (size, CRC-32, MsgProto) in one buffer. On any error nothing is changed.
 */
export function frameBatch(msgs: MsgProto[], last: number, channel: string, crc: Crc32): FramedBatch {
  let next = last;
  let unassigned = false;
  for (const msg of msgs) {
    const seq = msg.sequence === 0 ? next + 1 : msg.sequence;
    if (!Number.isSafeInteger(seq) || seq <= next) {
      throw new TstanError(StoreErrorCode.SequenceInvalid, `channel ${channel}: sequence ${msg.sequence} does not follow ${next}`);
    }
    if (msg.sequence === 0) unassigned = true;
    next = seq;
  }
  // Sequences are written into the messages; only a batch that had 0s must be able to undo it.
  const originals = unassigned ? msgs.map((m) => m.sequence) : undefined;
  const starts = new Uint32Array(msgs.length);
  let total = 0;
  next = last;
  try {
    for (let i = 0; i < msgs.length; i++) {
      const msg = msgs[i]!;
      if (msg.sequence === 0) msg.sequence = next + 1;
      next = msg.sequence;
      starts[i] = total;
      total += RECORD_HEADER_SIZE + encodedMsgProtoSize(msg);
    }
  } catch (error) {
    if (originals !== undefined) msgs.forEach((m, i) => (m.sequence = originals[i]!));
    if (error instanceof RecordInvalidError) {
      throw new TstanError(StoreErrorCode.RecordInvalid, error.message, { cause: error });
    }
    throw error;
  }
  // An allocation of its own, not a slice of Buffer's shared 8 KiB pool: the cache keeps this
  // buffer, and a pool slice would keep the whole slab alive with whatever else was cut from it,
  // memory the cache's budget does not count.
  const buffer = Buffer.allocUnsafeSlow(total);
  for (let i = 0; i < msgs.length; i++) {
    const start = starts[i]!;
    const payloadStart = start + RECORD_HEADER_SIZE;
    const payloadEnd = encodeMsgProtoInto(msgs[i]!, buffer, payloadStart);
    buffer.writeUInt32LE(payloadEnd - payloadStart, start);
    buffer.writeUInt32LE(crc(buffer, payloadStart, payloadEnd), start + 4);
  }
  return { buffer, starts };
}

/** Reads message `k` of `slice` (its files open); damage is a StoreCorruptError with file and offset. */
export function readMessage(slice: Slice, k: number, crc: Crc32 | undefined): MsgProto {
  const offset = slice.offsets[k]!;
  const size = slice.sizes[k]!;
  const record = slice.dat.read(offset, RECORD_HEADER_SIZE + size);
  const path = slice.dat.path;
  const seq = slice.firstSeq + k;
  if (record.length !== RECORD_HEADER_SIZE + size || record.readUInt32LE(0) !== size) {
    throw corrupt(path, offset, `message ${seq} record does not match its index entry`);
  }
  if (crc !== undefined && crc(record, RECORD_HEADER_SIZE, record.length) !== record.readUInt32LE(4)) {
    throw corrupt(path, offset, `message ${seq}: CRC-32 mismatch`);
  }
  try {
    return decodeMsgProto(record.subarray(RECORD_HEADER_SIZE));
  } catch (error) {
    throw corrupt(path, offset, (error as Error).message);
  }
}

/**
 * Reads message `k` of `slice` and the ones after it, up to about `bytesMax` bytes, in one read;
 * every record is checked against the in-memory index (and its CRC-32) as readMessage does.
 */
export function readRun(slice: Slice, k: number, bytesMax: number, crc: Crc32 | undefined): CachedRun {
  const base = slice.offsets[k]!;
  let end = k + 1;
  while (end < slice.count && slice.offsets[end]! + RECORD_HEADER_SIZE + slice.sizes[end]! - base <= bytesMax) end++;
  const length = slice.offsets[end - 1]! + RECORD_HEADER_SIZE + slice.sizes[end - 1]! - base;
  const block = slice.dat.read(base, length);
  const path = slice.dat.path;
  const starts = new Uint32Array(end - k);
  for (let i = 0; i < starts.length; i++) {
    const offset = slice.offsets[k + i]!;
    const size = slice.sizes[k + i]!;
    const start = offset - base;
    const seq = slice.firstSeq + k + i;
    if (start + RECORD_HEADER_SIZE + size > block.length || block.readUInt32LE(start) !== size) {
      throw corrupt(path, offset, `message ${seq} record does not match its index entry`);
    }
    if (crc !== undefined && crc(block, start + RECORD_HEADER_SIZE, start + RECORD_HEADER_SIZE + size) !== block.readUInt32LE(start + 4)) {
      throw corrupt(path, offset, `message ${seq}: CRC-32 mismatch`);
    }
    starts[i] = start;
  }
  return cachedRun(slice.firstSeq + k, block, starts);
}
