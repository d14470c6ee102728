// A typed record file (clients.dat, subs.dat): recovered by replaying its records, appended to
// with group commit, and compacted by rewriting the live state into a new file that replaces the
// old one by rename. Compaction is synchronous up to the rename (it is rare, at most once per
// compact interval), so no mutation can slip between the snapshot of the state and the swap.
import { posix } from 'node:path';
import type { Logger } from '../../util/logger.js';
import type { FileIo } from './io.js';
import type { Crc32 } from './crc32.js';
import type { FileStoreOptions } from './options.js';
import { AppendFile, observed } from './append-file.js';
import { encodeRecord, RECORD_HEADER_SIZE, recordSize, versionHeader, writeRecord } from './format.js';
import { writeVarint } from '../proto-wire.js';
import { checkVersion, scanRecords, tornHeader } from './scan.js';
import { corrupt, settleEnd } from './recover.js';

export interface TypedLogContext {
  readonly io: FileIo;
  readonly crc: Crc32;
  readonly options: FileStoreOptions;
  readonly logger: Logger;
  /** Milliseconds, for the compaction interval only. */
  readonly nowMs: () => number;
}

export type TypedRecord = readonly [type: number, payload: Buffer];
/**
 * A record of the kind appendIdSeq writes (subscription ID and sequence), for compact(): framed in
 * place with the rest, where encoding each as a message cost a few microseconds.
 */
export type IdSeqRecord = readonly [type: number, id: number, seq: number];

/** Size of the buffer small records are framed in; handed to the file part by part. */
const STAGING_BYTES = 16 * 1024;
/** Largest record appendIdSeq frames: header and two tagged uint64 varints. */
const ID_SEQ_RECORD_BYTES_MAX = RECORD_HEADER_SIZE + 2 * (1 + 10);

export class TypedLog {
  private file: AppendFile;
  private dirSync: Promise<void> | undefined;
  /** Records in the file; those a compaction would not rewrite are its fragmentation. */
  private records = 0;
  private lastCompactMs: number;
  /** Records framed by appendIdSeq: [stagedStart, stagedEnd) is not yet handed to the file. */
  private staging: Buffer | undefined;
  private stagedStart = 0;
  private stagedEnd = 0;

  private constructor(
    readonly path: string,
    file: AppendFile,
    private readonly context: TypedLogContext,
  ) {
    this.file = file;
    this.lastCompactMs = context.nowMs();
  }

  /** Opens (creating when missing) and replays the file through `visit`. */
  static open(
    path: string,
    types: ReadonlySet<number>,
    context: TypedLogContext,
    visit: (type: number, payload: Buffer) => string | undefined,
    parentDirSync?: Promise<void>,
  ): TypedLog {
    const { io, options, logger } = context;
    const created = !io.exists(path);
    let records = 0;
    const handle = io.open(path, { create: true });
    const data = handle.read(0, handle.size());
    if (created || tornHeader(data)) {
      if (!created) logger.warn({ file: path, bytes: data.length }, 'file holds no complete version header; starting it afresh');
      handle.truncate(0);
      handle.append(versionHeader());
    } else {
      const bad = checkVersion(data);
      if (bad !== undefined) throw corrupt(path, 0, bad);
      const crc = options.crc ? context.crc : undefined;
      const result = scanRecords(data, { typed: true, crc, types }, (_offset, type, payload) => {
        records++;
        return visit(type, payload);
      });
      settleEnd(handle, result.goodEnd, result.end, { logger, truncateBadEof: options.truncateBadEof });
    }
    const log = new TypedLog(path, new AppendFile(handle, options.bufferSizeBytes), context);
    log.records = records;
    if (created) log.dirSync = observed(Promise.all([parentDirSync, io.syncDir(posix.dirname(path))]).then(() => undefined));
    return log;
  }

  append(type: number, payload: Buffer): void {
    this.handOverStaged();
    this.file.append(encodeRecord(type, payload, this.context.crc));
    this.records++;
  }

  /**
   * Appends a record whose payload is a message with a uint64 field 1 and a uint64 field 2 (the
   * reference's SubStateUpdate: subscription ID and sequence; zeros omitted as proto3 does),
   * framed in place in a shared buffer: nothing is allocated per record.
   */
  appendIdSeq(type: number, id: number, seq: number): void {
    let buffer = this.staging;
    if (buffer === undefined || this.stagedEnd + ID_SEQ_RECORD_BYTES_MAX > buffer.length) {
      this.handOverStaged();
      buffer = this.staging = Buffer.allocUnsafe(STAGING_BYTES);
      this.stagedStart = this.stagedEnd = 0;
    }
    this.stagedEnd = writeIdSeqRecord(buffer, this.stagedEnd, type, id, seq, this.context.crc);
    this.records++;
  }

  /** Gives the file what appendIdSeq framed, keeping order with every other append. */
  private handOverStaged(): void {
    if (this.stagedEnd === this.stagedStart) return;
    this.file.append(this.staging!.subarray(this.stagedStart, this.stagedEnd));
    this.stagedStart = this.stagedEnd;
  }

  get size(): number {
    return this.file.size + this.stagedEnd - this.stagedStart;
  }

  async flush(): Promise<void> {
    this.handOverStaged();
    const dirSync = this.dirSync;
    await Promise.all([this.file.flush(this.context.options.sync), dirSync]);
    if (this.dirSync === dirSync) this.dirSync = undefined;
  }

  /** True when the options say the file is worth rewriting now; `live` = records it would keep. */
  shouldCompact(live: () => number): boolean {
    const { options } = this.context;
    if (!options.compactEnabled || this.records === 0) return false;
    if (this.file.size < options.compactMinSizeBytes) return false;
    // The clock last: this runs on every ack.
    if (((this.records - live()) * 100) / this.records < options.compactFragPercent) return false;
    return this.context.nowMs() - this.lastCompactMs >= options.compactIntervalSec * 1000;
  }

  /**
   * Replaces the file by one holding only `records` (the live state), framed into one buffer.
   * It blocks the event loop until the rename, so it is kept cheap: a subscription's thousands of
   * pending sequences are IdSeqRecords, framed in place as appendIdSeq does.
   */
  compact(records: ReadonlyArray<TypedRecord | IdSeqRecord>): void {
    const { io, crc, options, logger } = this.context;
    const header = versionHeader();
    let capacity = header.length;
    for (const record of records) capacity += record.length === 2 ? recordSize(record[1].length) : ID_SEQ_RECORD_BYTES_MAX;
    const buffer = Buffer.allocUnsafe(capacity);
    let end = header.copy(buffer, 0);
    for (const record of records) {
      end = record.length === 2 ? writeRecord(buffer, end, record[0], record[1], crc) : writeIdSeqRecord(buffer, end, record[0], record[1], record[2], crc);
    }
    const content = buffer.subarray(0, end);
    const tmpPath = `${this.path}.tmp`;
    this.handOverStaged();
    const tmp = io.open(tmpPath, { create: true });
    tmp.truncate(0);
    tmp.writeAt(0, content);
    tmp.syncBlocking();
    const old = this.file;
    old.writeOut();
    io.rename(tmpPath, this.path);
    this.file = new AppendFile(tmp, options.bufferSizeBytes);
    // Until the directory is synced the old file is what a crash leaves, and it holds every
    // record written so far: waiters on the old file stay correct.
    this.dirSync = observed(io.syncDir(posix.dirname(this.path)));
    old.flush(options.sync).then(
      () => old.close(),
      () => old.close(),
    );
    logger.info(
      { file: this.path, before: old.size, after: content.length, records: records.length },
      'compacted',
    );
    this.records = records.length;
    this.lastCompactMs = this.context.nowMs();
  }

  close(): void {
    this.handOverStaged();
    this.file.close();
  }
}

/**
 * Frames at `start` of `buffer` a record whose payload is a message with a uint64 field 1 and a
 * uint64 field 2 (the reference's SubStateUpdate; zeros omitted as proto3 does); returns its end.
 * The caller leaves ID_SEQ_RECORD_BYTES_MAX bytes of room.
 */
export function writeIdSeqRecord(buffer: Buffer, start: number, type: number, id: number, seq: number, crc: Crc32): number {
  let pos = start + RECORD_HEADER_SIZE;
  if (id !== 0) {
    buffer[pos++] = 0x08;
    pos = writeVarint(buffer, pos, id);
  }
  if (seq !== 0) {
    buffer[pos++] = 0x10;
    pos = writeVarint(buffer, pos, seq);
  }
  const size = pos - start - RECORD_HEADER_SIZE;
  // Little-endian words by hand: Buffer#writeUInt32LE's checks cost 1% of a FILE W4 run here.
  putUint32LE(buffer, start, ((type << 24) | size) >>> 0);
  putUint32LE(buffer, start + 4, crc(buffer, start + RECORD_HEADER_SIZE, pos));
  return pos;
}

function putUint32LE(buffer: Buffer, at: number, value: number): void {
  buffer[at] = value;
  buffer[at + 1] = value >>> 8;
  buffer[at + 2] = value >>> 16;
  buffer[at + 3] = value >>> 24;
}
