// The protobuf wire format, written by hand for the store records: varints (64-bit ones as two
// 32-bit halves, so nothing allocates), a growable writer, and a reader that reports truncated or
// out-of-range input as RecordInvalidError. records.ts builds the record codecs on these.

import { TstanError } from '../util/errors.js';

/** Decoding failed: truncated, wrong wire type, or a value out of range. */
export class RecordInvalidError extends TstanError {
  constructor(record: string, detail: string) {
    super('RECORD_INVALID', `invalid ${record} record: ${detail}`);
    this.name = 'RecordInvalidError';
  }
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;
export const TWO_POW_32 = 4294967296;
export const EMPTY_BYTES = new Uint8Array(0);

// ------------------------------------------------------------------------------------------
// Writing

export function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

export function writeVarint(buf: Buffer, pos: number, value: number): number {
  while (value >= 128) {
    buf[pos++] = (value % 128) | 128;
    value = Math.floor(value / 128);
  }
  buf[pos++] = value;
  return pos;
}

/** Writes a 64-bit varint given as two unsigned 32-bit halves. */
export function writeVarint64(buf: Buffer, pos: number, lo: number, hi: number): number {
  while (hi !== 0 || lo >= 128) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi = hi >>> 7;
  }
  buf[pos++] = lo;
  return pos;
}

export function varint64Size(lo: number, hi: number): number {
  let size = 1;
  while (hi !== 0 || lo >= 128) {
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi = hi >>> 7;
    size++;
  }
  return size;
}

export function int32Size(value: number): number {
  return value < 0 ? 10 : varintSize(value);
}

export function checkUint64(record: string, field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RecordInvalidError(record, `${field} must be a non-negative safe integer, got ${value}`);
  }
}

export function checkInt32(record: string, field: string, value: number): void {
  if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
    throw new RecordInvalidError(record, `${field} must be an int32, got ${value}`);
  }
}

export function checkUint32(record: string, field: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RecordInvalidError(record, `${field} must be a uint32, got ${value}`);
  }
}

/** A growable writer for the records off the hot path. */
export class ProtoWriter {
  private buf = Buffer.allocUnsafe(128);
  private pos = 0;

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  uint64(field: number, value: number): void {
    if (value === 0) return;
    this.ensure(11);
    this.buf[this.pos++] = (field << 3) | WIRE_VARINT;
    this.pos = writeVarint(this.buf, this.pos, value);
  }

  int32(field: number, value: number): void {
    if (value === 0) return;
    this.ensure(11);
    this.buf[this.pos++] = (field << 3) | WIRE_VARINT;
    this.pos = value < 0 ? writeVarint64(this.buf, this.pos, value >>> 0, 0xffffffff) : writeVarint(this.buf, this.pos, value);
  }

  bool(field: number, value: boolean): void {
    if (!value) return;
    this.ensure(2);
    this.buf[this.pos++] = (field << 3) | WIRE_VARINT;
    this.buf[this.pos++] = 1;
  }

  string(field: number, value: string): void {
    if (value.length === 0) return;
    const length = Buffer.byteLength(value, 'utf8');
    this.ensure(6 + length);
    this.buf[this.pos++] = (field << 3) | WIRE_BYTES;
    this.pos = writeVarint(this.buf, this.pos, length);
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }

  bytes(field: number, value: Uint8Array): void {
    if (value.length === 0) return;
    this.ensure(6 + value.length);
    this.buf[this.pos++] = (field << 3) | WIRE_BYTES;
    this.pos = writeVarint(this.buf, this.pos, value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

// ------------------------------------------------------------------------------------------
// Reading

/** A cursor over one encoded record; varints land in `lo`/`hi` to avoid allocating. */
export class ProtoReader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  lo = 0;
  hi = 0;

  constructor(
    bytes: Uint8Array,
    readonly record: string,
    private readonly copyBytes = true,
  ) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
    this.end = bytes.byteLength;
  }

  fail(detail: string): never {
    throw new RecordInvalidError(this.record, `${detail} at offset ${this.pos}`);
  }

  varint(): void {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else if (i < 9) hi |= (b & 0x7f) << (7 * i - 32);
      else {
        if (b > 1) this.fail('varint longer than 64 bits');
        hi |= b << 31;
      }
      if (b < 128) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    this.fail('varint longer than 10 bytes');
  }

  uint64(field: string): number {
    this.varint();
    if (this.hi >= 0x200000) this.fail(`${field} exceeds 2^53`);
    return this.hi * TWO_POW_32 + this.lo;
  }

  int32(): number {
    this.varint();
    return this.lo | 0;
  }

  uint32(): number {
    this.varint();
    return this.lo;
  }

  bool(): boolean {
    this.varint();
    return this.lo !== 0 || this.hi !== 0;
  }

  int64(): bigint {
    this.varint();
    if (this.hi === 0) return BigInt(this.lo);
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  length(): number {
    this.varint();
    if (this.hi !== 0 || this.lo > this.end - this.pos) this.fail('length beyond end of record');
    return this.lo;
  }

  string(): string {
    const length = this.length();
    const start = this.pos;
    this.pos += length;
    return this.buf.toString('utf8', start, this.pos);
  }

  /**
   * A copy by default, so the record outlives the buffer it was read from (file stores reuse
   * theirs); Buffer.from copies through Node's pool, about twice as fast as a new Uint8Array.
   */
  bytes(): Uint8Array {
    const length = this.length();
    const start = this.pos;
    this.pos += length;
    if (length === 0) return EMPTY_BYTES;
    // Plain Uint8Array views (not Buffer), so decoded records compare equal to constructed ones.
    const source = this.copyBytes ? Buffer.from(this.buf.subarray(start, this.pos)) : this.buf.subarray(start, this.pos);
    return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  }

  /** Reads a tag; returns the field number and leaves the wire type in `lo`. */
  tag(): number {
    this.varint();
    const field = this.lo >>> 3;
    if (this.hi !== 0 || field === 0) this.fail('invalid field tag');
    this.lo &= 7;
    return field;
  }

  expect(wireType: number, actual: number, field: string): void {
    if (wireType !== actual) this.fail(`field ${field} has wire type ${actual}, expected ${wireType}`);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_BYTES:
        this.advance(this.length());
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        this.fail(`unsupported wire type ${wireType}`);
    }
  }

  private advance(count: number): void {
    if (count > this.end - this.pos) this.fail('truncated field');
    this.pos += count;
  }
}
