// Walks the records of a file held in memory and says where the good part ends and why. The
// caller decides what the end means: a torn tail (an incomplete record, or zeros up to end of
// file, as a crash mid-write leaves) is cut with a warning; a complete record that fails its
// checks is damage, which stops recovery unless `truncateBadEof` asks to cut there.
import { FILE_VERSION, FILE_VERSION_SIZE, RECORD_HEADER_SIZE, TYPED_SIZE_MAX } from './format.js';
import type { Crc32 } from './crc32.js';

export type ScanEnd =
  | { readonly kind: 'clean' }
  | { readonly kind: 'torn'; readonly offset: number; readonly reason: string }
  | { readonly kind: 'corrupt'; readonly offset: number; readonly reason: string };

export interface ScanOptions {
  readonly typed: boolean;
  /** Absent when `--file_crc=false`: payloads are not checked. */
  readonly crc: Crc32 | undefined;
  /** Record types accepted in a typed file. */
  readonly types?: ReadonlySet<number>;
  /** Largest payload accepted in an untyped file. */
  readonly sizeMax?: number;
}

/** Called per good record; returning a string marks the record as damaged with that reason. */
export type RecordVisitor = (offset: number, type: number, payload: Buffer) => string | undefined;

export interface ScanResult {
  /** Offset just past the last good record. */
  readonly goodEnd: number;
  readonly end: ScanEnd;
}

function zerosToEnd(data: Buffer, from: number): boolean {
  for (let i = from; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}

/**
 * True for a file that holds only part of its version header: created just before a crash that
 * lost the unsynced header. Nothing was ever acknowledged from it.
 */
export function tornHeader(data: Buffer): boolean {
  if (data.length >= FILE_VERSION_SIZE) return false;
  const header = Buffer.alloc(FILE_VERSION_SIZE);
  header.writeUInt32LE(FILE_VERSION, 0);
  return header.subarray(0, data.length).equals(data);
}

/** Checks the 4-byte version header; returns a reason when it is wrong, undefined when good. */
export function checkVersion(data: Buffer): string | undefined {
  if (data.length < FILE_VERSION_SIZE) return 'file shorter than its version header';
  const version = data.readUInt32LE(0);
  if (version === 0 || version > FILE_VERSION) return `unsupported file version ${version} (supports 1..${FILE_VERSION})`;
  return undefined;
}

export function scanRecords(data: Buffer, options: ScanOptions, visit: RecordVisitor): ScanResult {
  let offset = FILE_VERSION_SIZE;
  const sizeMax = options.typed ? TYPED_SIZE_MAX : (options.sizeMax ?? 0x7fffffff);
  while (offset < data.length) {
    const remaining = data.length - offset;
    if (remaining < RECORD_HEADER_SIZE) {
      return { goodEnd: offset, end: { kind: 'torn', offset, reason: `${remaining} bytes of a record header at end of file` } };
    }
    const header = data.readUInt32LE(offset);
    const storedCrc = data.readUInt32LE(offset + 4);
    if (header === 0 && storedCrc === 0 && zerosToEnd(data, offset)) {
      return { goodEnd: offset, end: { kind: 'torn', offset, reason: 'zero bytes up to end of file' } };
    }
    const type = options.typed ? header >>> 24 : 0;
    const size = options.typed ? header & TYPED_SIZE_MAX : header;
    if (options.typed && !(options.types?.has(type) ?? true)) {
      return { goodEnd: offset, end: { kind: 'corrupt', offset, reason: `unknown record type ${type}` } };
    }
    if (size > sizeMax) {
      return { goodEnd: offset, end: { kind: 'corrupt', offset, reason: `record size ${size} above ${sizeMax}` } };
    }
    if (size > remaining - RECORD_HEADER_SIZE) {
      const reason = `record of ${size} bytes but ${remaining - RECORD_HEADER_SIZE} left in file`;
      return { goodEnd: offset, end: { kind: 'torn', offset, reason } };
    }
    const payload = data.subarray(offset + RECORD_HEADER_SIZE, offset + RECORD_HEADER_SIZE + size);
    if (options.crc !== undefined && options.crc(data, offset + RECORD_HEADER_SIZE, offset + RECORD_HEADER_SIZE + size) !== storedCrc) {
      return { goodEnd: offset, end: { kind: 'corrupt', offset, reason: 'CRC-32 mismatch' } };
    }
    const problem = visit(offset, type, payload);
    if (problem !== undefined) return { goodEnd: offset, end: { kind: 'corrupt', offset, reason: problem } };
    offset += RECORD_HEADER_SIZE + size;
  }
  return { goodEnd: offset, end: { kind: 'clean' } };
}
