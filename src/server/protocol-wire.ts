// The protobuf wire format of the client protocol (docs/protocol.md §2.1), read and written by hand
// so that start-up loads no protobuf library. The reader accepts the encodings protobufjs 8 (the
// parser the server used before) accepts, byte for byte and with the same limits: tags and lengths
// of at most 5 bytes, varints of at most 10 (bits past 64 dropped, as gogo protobuf in the
// reference server drops them), unknown groups skipped 100 deep, strings valid UTF-8. The store's
// reader (src/store/proto-wire.ts) is stricter on purpose: it reads only what we wrote ourselves.
// protocol-messages.ts builds the message codecs on this; test/stan/protocol-codec.test.ts
// cross-checks them against protobufjs.
import { Buffer } from 'node:buffer';
import { TstanError } from '../util/errors.js';
import { TWO_POW_32, varint64Size, varintSize, writeVarint, writeVarint64 } from '../store/proto-wire.js';

/** A client protocol message does not decode (truncated, malformed, a field of the wrong type). */
export class ProtocolMessageInvalidError extends TstanError {
  constructor(message: string, detail: string) {
    super('STAN_MESSAGE_INVALID', `invalid ${message}: ${detail}`);
    this.name = 'ProtocolMessageInvalidError';
  }
}

export const WireType = { varint: 0, fixed64: 1, bytes: 2, groupStart: 3, groupEnd: 4, fixed32: 5 } as const;

/** protoc's and protobufjs's nesting limit, here for groups inside unknown fields. */
const GROUP_DEPTH_MAX = 100;

// Proto3 strings must be valid UTF-8; a leading byte-order mark is part of the string.
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A cursor over one encoded message; a varint lands in `lo`/`hi`, a tag's wire type in `wireType`. */
export class ProtocolReader {
  private pos = 0;
  private readonly end: number;
  lo = 0;
  hi = 0;
  wireType = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly message: string,
  ) {
    this.end = bytes.length;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(detail: string): never {
    throw new ProtocolMessageInvalidError(this.message, `${detail} at offset ${this.pos}`);
  }

  /** A varint of at most 10 bytes; bits past the 64th are dropped. */
  varint(): void {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.bytes[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    this.fail('varint longer than 10 bytes');
  }

  /** A varint of at most 5 bytes whose last byte is at most `lastByteMax` (tags: 32 bits, lengths: 31). */
  private shortVarint(lastByteMax: number, what: string): number {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) this.fail(`truncated ${what}`);
      const b = this.bytes[this.pos++]!;
      if (i === 4) {
        if (b > lastByteMax) this.fail(`invalid ${what} encoding`);
        return value + b * 2 ** 28;
      }
      value |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return value;
    }
    return this.fail(`invalid ${what} encoding`);
  }

  /** Reads a tag: returns the field number (0 is refused) and leaves the wire type in `wireType`. */
  tag(): number {
    const tag = this.shortVarint(0x0f, 'tag');
    const field = tag >>> 3;
    if (field === 0) this.fail('field number 0');
    this.wireType = tag & 7;
    return field;
  }

  length(): number {
    const length = this.shortVarint(0x07, 'length');
    if (length > this.end - this.pos) this.fail('length beyond the end of the message');
    return length;
  }

  string(): string {
    const length = this.length();
    const start = this.pos;
    this.pos += length;
    if (length === 0) return '';
    try {
      return utf8Strict.decode(this.bytes.subarray(start, this.pos));
    } catch {
      this.pos = start;
      return this.fail('string is not valid UTF-8');
    }
  }

  /** A copy: the message may outlive the buffer the transport read it into. */
  bytesField(): Buffer {
    const length = this.length();
    const start = this.pos;
    this.pos += length;
    return Buffer.from(this.bytes.subarray(start, this.pos));
  }

  /** Any non-zero bit of a varint of at most 10 bytes, the 10th byte's included (as protobufjs reads bools). */
  bool(): boolean {
    let value = false;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.bytes[this.pos++]!;
      if ((b & 0x7f) !== 0) value = true;
      if (b < 0x80) return value;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** Skips the value of an unknown field, groups included (their end must name the same field). */
  skip(wireType: number, field: number, depth = 0): void {
    if (depth > GROUP_DEPTH_MAX) this.fail('groups nested too deeply');
    switch (wireType) {
      case WireType.varint:
        // No length limit: nothing reads the value.
        do {
          if (this.pos >= this.end) this.fail('truncated varint');
        } while (this.bytes[this.pos++]! >= 0x80);
        return;
      case WireType.fixed64:
        return this.advance(8);
      case WireType.bytes:
        return this.advance(this.length());
      case WireType.groupStart:
        for (;;) {
          const nested = this.tag();
          if (this.wireType === WireType.groupEnd) {
            if (nested !== field) this.fail(`group ${field} ended by field ${nested}`);
            return;
          }
          this.skip(this.wireType, nested, depth + 1);
        }
      case WireType.fixed32:
        return this.advance(4);
      default:
        return this.fail(`invalid wire type ${wireType}`);
    }
  }

  private advance(count: number): void {
    if (count > this.end - this.pos) this.fail('truncated field');
    this.pos += count;
  }
}

/** An int64 as protobufjs hands it back with `longs: Number`: exact up to 2^53 in magnitude, rounded beyond. */
export function int64ToNumber(lo: number, hi: number): number {
  if (hi >>> 31 === 0) return hi * TWO_POW_32 + lo;
  const negLo = (~lo + 1) >>> 0;
  const negHi = negLo === 0 ? (~hi + 1) >>> 0 : ~hi >>> 0;
  return -(negHi * TWO_POW_32 + negLo);
}

/** A uint64 as protobufjs hands it back with `longs: Number`: exact up to 2^53, rounded beyond. */
export function uint64ToNumber(lo: number, hi: number): number {
  return hi * TWO_POW_32 + lo;
}

/** One encoded field, sized before anything is written. */
export type EncodedValue =
  | { readonly kind: 'varint'; readonly value: number }
  | { readonly kind: 'varint64'; readonly lo: number; readonly hi: number }
  | { readonly kind: 'bytes'; readonly value: Uint8Array }
  | { readonly kind: 'string'; readonly value: string; readonly length: number };

export interface EncodedField {
  readonly field: number;
  readonly value: EncodedValue;
}

function wireTypeOf(value: EncodedValue): number {
  return value.kind === 'varint' || value.kind === 'varint64' ? WireType.varint : WireType.bytes;
}

function valueSize(value: EncodedValue): number {
  switch (value.kind) {
    case 'varint':
      return varintSize(value.value);
    case 'varint64':
      return varint64Size(value.lo, value.hi);
    case 'bytes':
      return varintSize(value.value.length) + value.value.length;
    case 'string':
      return varintSize(value.length) + value.length;
  }
}

/** Writes the fields in the order given (field-number order, as protobufjs writes them). */
export function writeFields(fields: readonly EncodedField[]): Buffer {
  let size = 0;
  for (const { field, value } of fields) size += varintSize(field * 8) + valueSize(value);
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const { field, value } of fields) {
    pos = writeVarint(out, pos, field * 8 + wireTypeOf(value));
    switch (value.kind) {
      case 'varint':
        pos = writeVarint(out, pos, value.value);
        break;
      case 'varint64':
        pos = writeVarint64(out, pos, value.lo, value.hi);
        break;
      case 'bytes':
        pos = writeVarint(out, pos, value.value.length);
        out.set(value.value, pos);
        pos += value.value.length;
        break;
      case 'string':
        pos = writeVarint(out, pos, value.length);
        pos += out.write(value.value, pos, 'utf8');
        break;
    }
  }
  return out;
}
