// The publish hot path's PubMsg decoder. One PubMsg arrives per published message, and a publisher
// sends many in a row with the same client ID, connection ID and channel: those strings are
// reused while their bytes repeat, so a burst decodes only the guid. The guid itself usually
// goes straight back out in the PubAck, so the PubAck is built from its bytes, not its string.
import { Buffer } from 'node:buffer';

/** A decoded PubMsg; `data` and the guid bytes are views of the input, valid only during the call. */
export interface PubMsgFields {
  clientID: string;
  subject: string;
  reply: string;
  data: Uint8Array;
  /** Latin1 key of the connection ID bytes. */
  connId: string;
  /** The input and the guid's byte range in it (empty range: no guid). */
  bytes: Buffer;
  guidStart: number;
  guidEnd: number;
}

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_BUFFER = Buffer.alloc(0);
/** Strings longer than this are decoded every time: comparing them would cost about as much. */
const CACHED_TEXT_BYTES_MAX = 256;

/** The last string decoded from a field and the bytes it came from. */
class CachedText {
  private bytes: Buffer = EMPTY_BUFFER;
  private text = '';

  constructor(private readonly encoding: 'utf8' | 'latin1') {}

  read(buf: Buffer, start: number, end: number): string {
    const length = end - start;
    const previous = this.bytes;
    if (previous.length === length) {
      let i = 0;
      while (i < length && previous[i] === buf[start + i]) i++;
      if (i === length) return this.text;
    }
    const text = buf.toString(this.encoding, start, end);
    if (length <= CACHED_TEXT_BYTES_MAX) {
      this.bytes = Buffer.from(buf.subarray(start, end));
      this.text = text;
    }
    return text;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class PubMsgDecoder {
  private readonly clientIdText = new CachedText('utf8');
  private readonly subjectText = new CachedText('utf8');
  private readonly connIdText = new CachedText('latin1');
  /** Reused for every message: nothing keeps it past the callback. */
  private readonly fields: PubMsgFields = {
    clientID: '',
    subject: '',
    reply: '',
    data: EMPTY_BYTES,
    connId: '',
    bytes: EMPTY_BUFFER,
    guidStart: 0,
    guidEnd: 0,
  };

  /**
   * Decodes PubMsg (docs/protocol.md §2.1) without protobufjs. Unknown fields are skipped as protobuf
   * requires; returns null when the bytes are not a valid encoding (truncated, bad wire type for
   * a known field, over-long varint). The result is overwritten by the next call.
   */
  decode(bytes: Uint8Array): PubMsgFields | null {
    const buf = asBuffer(bytes);
    const f = this.fields;
    f.clientID = '';
    f.subject = '';
    f.reply = '';
    f.data = EMPTY_BYTES;
    f.connId = '';
    f.bytes = buf;
    f.guidStart = 0;
    f.guidEnd = 0;
    const end = buf.length;
    let pos = 0;
    while (pos < end) {
      // Tag: fields up to 10 fit in one byte; larger ones are read as a varint.
      let key = buf[pos++]!;
      if (key >= 0x80) {
        if (pos >= end) return null;
        const b = buf[pos++]!;
        if (b >= 0x80) return null;
        key = (key & 0x7f) | (b << 7);
      }
      const field = key >>> 3;
      const wire = key & 7;
      if (field === 0) return null;
      if (wire === 2) {
        let length = 0;
        let shift = 0;
        for (;;) {
          if (pos >= end || shift > 28) return null;
          const b = buf[pos++]!;
          length += (b & 0x7f) * 2 ** shift;
          shift += 7;
          if (b < 0x80) break;
        }
        if (length > end - pos) return null;
        const start = pos;
        pos += length;
        switch (field) {
          case 1: f.clientID = this.clientIdText.read(buf, start, pos); break;
          case 2: f.guidStart = start; f.guidEnd = pos; break;
          case 3: f.subject = this.subjectText.read(buf, start, pos); break;
          case 4: f.reply = length === 0 ? '' : buf.toString('utf8', start, pos); break;
          case 5: f.data = buf.subarray(start, pos); break;
          case 6: f.connId = this.connIdText.read(buf, start, pos); break;
          default: break;
        }
      } else if (field >= 1 && field <= 6) {
        return null;
      } else if (wire === 0) {
        for (let i = 0; ; i++) {
          if (pos >= end || i >= 10) return null;
          if (buf[pos++]! < 0x80) break;
        }
      } else if (wire === 1) {
        pos += 8;
      } else if (wire === 5) {
        pos += 4;
      } else {
        return null;
      }
    }
    return pos === end ? f : null;
  }
}

/** The guid of a decoded PubMsg as a string ('' when absent). */
export function guidOf(fields: PubMsgFields): string {
  return fields.guidEnd === fields.guidStart ? '' : fields.bytes.toString('utf8', fields.guidStart, fields.guidEnd);
}

/** True for a guid of 1 to 127 ASCII bytes (what clients send, a NUID): copied as it came. */
function plainGuid(fields: PubMsgFields): boolean {
  const { bytes, guidStart, guidEnd } = fields;
  const length = guidEnd - guidStart;
  if (length <= 0 || length >= 0x80) return false;
  for (let i = guidStart; i < guidEnd; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

/** Bytes of the PubAck successPubAck gives for `fields`. */
export function successPubAckLength(fields: PubMsgFields): number {
  return plainGuid(fields) ? 2 + fields.guidEnd - fields.guidStart : encodePubAck(guidOf(fields), '').length;
}

/** Writes the PubAck successPubAck gives at `pos` of `target` (successPubAckLength bytes). */
export function writeSuccessPubAck(fields: PubMsgFields, target: Buffer, pos: number): void {
  if (!plainGuid(fields)) {
    encodePubAck(guidOf(fields), '').copy(target, pos);
    return;
  }
  target[pos] = 0x0a;
  target[pos + 1] = fields.guidEnd - fields.guidStart;
  // Byte by byte: a NUID is 22 bytes, for which Buffer#copy's checks cost more than the copy
  // (2% of server CPU in FILE W3, once per publish).
  const bytes = fields.bytes;
  let to = pos + 2;
  for (let i = fields.guidStart; i < fields.guidEnd; i++) target[to++] = bytes[i]!;
}

/**
 * PubAck{guid} without an error, for the guid of a decoded PubMsg: an ASCII guid (what clients
 * send, a NUID) is copied as it came; any other goes through its string, as it always did.
 */
export function successPubAck(fields: PubMsgFields): Buffer {
  const out = Buffer.allocUnsafe(successPubAckLength(fields));
  writeSuccessPubAck(fields, out, 0);
  return out;
}

/** The guid a PubAck built by this module carries. */
export function guidOfPubAck(ack: Buffer): string {
  if (ack.length === 0) return '';
  let length = 0;
  let shift = 0;
  let pos = 1;
  for (;;) {
    const b = ack[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) break;
  }
  return ack.toString('utf8', pos, pos + length);
}

/** PubAck{guid=1, error=2} without protobufjs. */
export function encodePubAck(guid: string, error: string): Buffer {
  const guidLength = Buffer.byteLength(guid, 'utf8');
  const errorLength = error === '' ? 0 : Buffer.byteLength(error, 'utf8');
  const size = (guidLength > 0 ? 1 + varintLength(guidLength) + guidLength : 0) + (errorLength > 0 ? 1 + varintLength(errorLength) + errorLength : 0);
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  if (guidLength > 0) {
    out[pos++] = 0x0a;
    pos = putVarint(out, pos, guidLength);
    pos += out.write(guid, pos, 'utf8');
  }
  if (errorLength > 0) {
    out[pos++] = 0x12;
    pos = putVarint(out, pos, errorLength);
    out.write(error, pos, 'utf8');
  }
  return out;
}

function varintLength(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function putVarint(out: Buffer, pos: number, value: number): number {
  while (value >= 0x80) {
    out[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}
