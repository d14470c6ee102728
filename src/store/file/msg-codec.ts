// Messages to and from their records: a batch is checked, given its sequences and encoded before
// anything is stored (all or nothing); a stored message is read back with its framing and CRC
// checked against the in-memory index.
import { TstanError } from '../../util/errors.js';
import { decodeMsgProto, encodeMsgProto, RecordInvalidError, type MsgProto } from '../records.js';
import { StoreErrorCode } from '../types.js';
import type { Crc32 } from './crc32.js';
import { RECORD_HEADER_SIZE } from './format.js';
import type { Slice } from './msg-slice.js';
import { corrupt } from './recover.js';

/** Assigns sequences after `last` (in place) and encodes; on any error nothing is changed. */
export function encodeBatch(msgs: MsgProto[], last: number, channel: string): Buffer[] {
  let next = last;
  const sequences: number[] = [];
  for (const msg of msgs) {
    const seq = msg.sequence === 0 ? next + 1 : msg.sequence;
    if (!Number.isSafeInteger(seq) || seq <= next) {
      throw new TstanError(StoreErrorCode.SequenceInvalid, `channel ${channel}: sequence ${msg.sequence} does not follow ${next}`);
    }
    sequences.push(seq);
    next = seq;
  }
  const originals = msgs.map((m) => m.sequence);
  const encoded: Buffer[] = [];
  try {
    for (let i = 0; i < msgs.length; i++) {
      msgs[i]!.sequence = sequences[i]!;
      encoded.push(encodeMsgProto(msgs[i]!));
    }
  } catch (error) {
    msgs.forEach((m, i) => (m.sequence = originals[i]!));
    if (error instanceof RecordInvalidError) {
      throw new TstanError(StoreErrorCode.RecordInvalid, error.message, { cause: error });
    }
    throw error;
  }
  return encoded;
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
