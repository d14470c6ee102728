// One slice of a channel: msgs.N.dat (records of MsgProto) and msgs.N.idx (32-byte entries),
// with the index kept in memory as typed arrays (offset, size, timestamp per message; the
// sequences of a slice are contiguous). Recovery checks every data record's CRC against the
// index: an index entry vouches that its record was fsynced (entries are written only after the
// data fsync), so a record missing under an entry is damage, never a torn tail.
import { posix } from 'node:path';
import type { FileIo } from './io.js';
import type { Crc32 } from './crc32.js';
import { AppendFile } from './append-file.js';
import {
  FILE_VERSION_SIZE,
  INDEX_ENTRY_SIZE,
  MSG_RECORD_OVERHEAD,
  readIndexEntry,
  sliceFileNames,
  versionHeader,
  writeIndexEntry,
} from './format.js';
import { checkVersion, scanRecords, tornHeader } from './scan.js';
import { corrupt, settleEnd, type RecoveryContext } from './recover.js';
import { decodeMsgProto, RecordInvalidError } from '../records.js';

export class Slice {
  dat: AppendFile;
  idx: AppendFile;
  firstSeq = 0;
  /** Entries in the slice, including those dropped from its front by limits. */
  count = 0;
  /** Entries dropped from the front by limits. */
  removed = 0;
  /** Payload bytes of the entries not removed (the unit of the byte limits). */
  liveBytes = 0;
  /** Bytes of every entry with record header and index entry, for the slice size limit. */
  writtenBytes = 0;
  /** Entries already in the index file. */
  indexed = 0;
  offsets: Float64Array = new Float64Array(64);
  sizes: Uint32Array = new Uint32Array(64);
  timestamps: BigInt64Array = new BigInt64Array(64);
  dropped = false;
  /** Files closed to save descriptors (file_fds_limit); reopened on the next read. */
  parked = false;

  constructor(
    readonly number: number,
    dat: AppendFile,
    idx: AppendFile,
  ) {
    this.dat = dat;
    this.idx = idx;
  }

  get lastSeq(): number {
    return this.firstSeq + this.count - 1;
  }

  get liveCount(): number {
    return this.count - this.removed;
  }

  /** Records one more message in memory (the caller appended its record to `dat`). */
  push(seq: number, offset: number, size: number, timestamp: bigint): void {
    if (this.count === 0) this.firstSeq = seq;
    if (this.count === this.offsets.length) this.growTo(this.count * 2);
    this.offsets[this.count] = offset;
    this.sizes[this.count] = size;
    this.timestamps[this.count] = timestamp;
    this.count++;
    this.liveBytes += size;
    this.writtenBytes += size + MSG_RECORD_OVERHEAD;
  }

  /** Takes over arrays already filled from the index file; entries count once accepted. */
  adopt(firstSeq: number, offsets: Float64Array, sizes: Uint32Array, timestamps: BigInt64Array): void {
    this.firstSeq = firstSeq;
    this.offsets = offsets;
    this.sizes = sizes;
    this.timestamps = timestamps;
    this.count = 0;
  }

  /** Counts the next adopted entry, its data record having been checked. */
  acceptNext(): void {
    const size = this.sizes[this.count]!;
    this.count++;
    this.liveBytes += size;
    this.writtenBytes += size + MSG_RECORD_OVERHEAD;
  }

  /** Index entries for messages not yet in the index file, encoded. */
  takeUnindexed(crc: Crc32, upTo: number): Buffer | undefined {
    const n = upTo - this.indexed;
    if (n <= 0) return undefined;
    const buffer = Buffer.allocUnsafe(n * INDEX_ENTRY_SIZE);
    for (let i = 0; i < n; i++) {
      const k = this.indexed + i;
      writeIndexEntry(
        buffer,
        i * INDEX_ENTRY_SIZE,
        { seq: this.firstSeq + k, offset: this.offsets[k]!, timestamp: this.timestamps[k]!, size: this.sizes[k]! },
        crc,
      );
    }
    this.indexed = upTo;
    return buffer;
  }

  private growTo(capacity: number): void {
    const offsets = new Float64Array(capacity);
    offsets.set(this.offsets.subarray(0, this.count));
    const sizes = new Uint32Array(capacity);
    sizes.set(this.sizes.subarray(0, this.count));
    const timestamps = new BigInt64Array(capacity);
    timestamps.set(this.timestamps.subarray(0, this.count));
    this.offsets = offsets;
    this.sizes = sizes;
    this.timestamps = timestamps;
  }

  /** Closes both files to stay under `file_fds_limit`; `unpark` reopens them. */
  park(): void {
    if (this.parked) return;
    this.dat.close();
    this.idx.close();
    this.parked = true;
  }

  unpark(io: FileIo, bufferBytes: number): void {
    if (!this.parked) return;
    this.dat = new AppendFile(io.open(this.dat.path, { create: false }), bufferBytes);
    this.idx = new AppendFile(io.open(this.idx.path, { create: false }), bufferBytes);
    this.parked = false;
  }

  close(): void {
    if (this.parked) return;
    this.dat.close();
    this.idx.close();
    this.parked = true;
  }
}

export interface SliceContext extends RecoveryContext {
  readonly io: FileIo;
  readonly crc: Crc32;
  readonly checkCrc: boolean;
  readonly bufferBytes: number;
}

/** Creates msgs.N.dat/idx with their version headers. */
export function createSlice(dir: string, number: number, context: SliceContext): Slice {
  const names = sliceFileNames(number);
  const dat = context.io.open(posix.join(dir, names.dat), { create: true });
  const idx = context.io.open(posix.join(dir, names.idx), { create: true });
  dat.truncate(0);
  idx.truncate(0);
  const slice = new Slice(number, new AppendFile(dat, context.bufferBytes), new AppendFile(idx, context.bufferBytes));
  slice.dat.append(versionHeader());
  slice.idx.append(versionHeader());
  return slice;
}

interface IndexScan {
  firstSeq: number;
  count: number;
  offsets: Float64Array;
  sizes: Uint32Array;
  timestamps: BigInt64Array;
}

const TWO_POW_32 = 4294967296;

/** Reads index entries straight into typed arrays; stops at the first unusable one. */
function readIndexFile(path: string, data: Buffer, context: SliceContext): { scan: IndexScan; goodEnd: number } {
  const capacity = Math.max(64, Math.floor((data.length - FILE_VERSION_SIZE) / INDEX_ENTRY_SIZE) + 64);
  const scan: IndexScan = {
    firstSeq: 0,
    count: 0,
    offsets: new Float64Array(capacity),
    sizes: new Uint32Array(capacity),
    timestamps: new BigInt64Array(capacity),
  };
  const crc = context.checkCrc ? context.crc : undefined;
  let offset = FILE_VERSION_SIZE;
  while (offset + INDEX_ENTRY_SIZE <= data.length) {
    const seqLo = data.readUInt32LE(offset);
    const seqHi = data.readUInt32LE(offset + 4);
    const posLo = data.readUInt32LE(offset + 8);
    const posHi = data.readUInt32LE(offset + 12);
    const size = data.readUInt32LE(offset + 24);
    const stored = data.readUInt32LE(offset + 28);
    let problem: string | undefined;
    if (crc !== undefined && crc(data, offset, offset + 28) !== stored) problem = 'bad CRC-32';
    else if (seqHi >= 0x200000 || posHi >= 0x200000) problem = 'value out of range';
    const seq = seqHi * TWO_POW_32 + seqLo;
    if (problem === undefined && (seq === 0 || (scan.count > 0 && seq !== scan.firstSeq + scan.count))) {
      problem = `sequence ${seq} breaks the order`;
    }
    if (problem !== undefined) {
      // The index is derived from the data file: damage here is repaired from it.
      context.logger.warn({ file: path, offset, problem }, 'index entry unusable; rebuilding index from data file');
      break;
    }
    if (scan.count === 0) scan.firstSeq = seq;
    scan.offsets[scan.count] = posHi * TWO_POW_32 + posLo;
    scan.sizes[scan.count] = size;
    scan.timestamps[scan.count] = data.readBigInt64LE(offset + 16);
    scan.count++;
    offset += INDEX_ENTRY_SIZE;
  }
  return { scan, goodEnd: offset };
}

/** Opens one existing slice, repairing a torn tail and a missing or short index. */
export function recoverSlice(dir: string, number: number, context: SliceContext): Slice {
  const names = sliceFileNames(number);
  const datPath = posix.join(dir, names.dat);
  const idxPath = posix.join(dir, names.idx);
  const datHandle = context.io.open(datPath, { create: false });
  const idxHandle = context.io.open(idxPath, { create: true });
  let data = datHandle.read(0, datHandle.size());
  if (tornHeader(data)) {
    datHandle.truncate(0);
    datHandle.append(versionHeader());
    data = versionHeader();
  } else {
    const bad = checkVersion(data);
    if (bad !== undefined && !context.truncateBadEof) throw corrupt(datPath, 0, bad);
    if (bad !== undefined) {
      // A file whose very header is damaged holds nothing that can be read: it starts again empty.
      context.logger.warn({ file: datPath, reason: bad }, 'truncate_bad_eof: data file unreadable from its header on; emptied');
      datHandle.truncate(0);
      datHandle.append(versionHeader());
      data = versionHeader();
      idxHandle.truncate(0);
    }
  }
  let index = idxHandle.read(0, idxHandle.size());
  if (index.length < FILE_VERSION_SIZE || checkVersion(index) !== undefined) {
    if (index.length > 0) context.logger.warn({ file: idxPath }, 'index file unreadable; rebuilding it');
    idxHandle.truncate(0);
    idxHandle.append(versionHeader());
    index = versionHeader();
  }
  const { scan, goodEnd: idxGoodEnd } = readIndexFile(idxPath, index, context);
  const slice = new Slice(number, new AppendFile(datHandle, context.bufferBytes), new AppendFile(idxHandle, context.bufferBytes));
  slice.adopt(scan.firstSeq, scan.offsets, scan.sizes, scan.timestamps);
  let rebuilt = 0;
  const crc = context.checkCrc ? context.crc : undefined;
  const result = scanRecords(data, { typed: false, crc }, (offset, _type, payload) => {
    const k = slice.count;
    if (k < scan.count) {
      if (scan.offsets[k] !== offset || scan.sizes[k] !== payload.length) {
        return `record does not match index entry of sequence ${scan.firstSeq + k}`;
      }
      slice.acceptNext();
      return undefined;
    }
    let seq: number;
    let timestamp: bigint;
    try {
      const msg = decodeMsgProto(payload);
      seq = msg.sequence;
      timestamp = msg.timestamp;
    } catch (error) {
      if (error instanceof RecordInvalidError) return error.message;
      throw error;
    }
    if (seq === 0 || (k > 0 && seq !== slice.firstSeq + k)) return `message sequence ${seq} breaks the slice's order`;
    slice.push(seq, offset, payload.length, timestamp);
    rebuilt++;
    return undefined;
  });
  if (slice.count < scan.count) {
    const missing = scan.firstSeq + slice.count;
    const reason =
      result.end.kind === 'clean'
        ? `message ${missing} is indexed but the data file ends before its record`
        : `${result.end.reason}; message ${missing} is indexed, so this is damage, not a torn write`;
    if (!context.truncateBadEof) throw corrupt(datPath, result.goodEnd, reason);
    context.logger.warn({ file: datPath, offset: result.goodEnd, reason }, 'truncate_bad_eof: cutting data and index');
  }
  if (settleEnd(datHandle, result.goodEnd, result.end, context)) {
    // Cut: the writer must continue from the new end, not from the size it saw before.
    slice.dat = new AppendFile(datHandle, context.bufferBytes);
  }
  slice.indexed = Math.min(slice.count, scan.count);
  const idxEnd = FILE_VERSION_SIZE + slice.indexed * INDEX_ENTRY_SIZE;
  if (idxHandle.size() !== idxEnd) {
    if (idxHandle.size() > idxGoodEnd || slice.indexed < scan.count) {
      context.logger.warn({ file: idxPath, offset: idxEnd }, 'cutting index file after its last usable entry');
    }
    slice.idx.truncate(idxEnd);
  }
  if (rebuilt > 0) {
    context.logger.warn({ file: idxPath, entries: rebuilt }, 'index was behind its data file; rebuilt missing entries');
    // An entry vouches for a durable record: after a kill -9 the records read here may still
    // sit in the page cache only.
    datHandle.syncBlocking();
    const entries = slice.takeUnindexed(context.crc, slice.count);
    if (entries !== undefined) slice.idx.append(entries);
    slice.idx.writeOut();
  }
  return slice;
}
