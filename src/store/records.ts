// The spb records the stores persist (docs/protocol.md §2.2) and the client MsgProto (§2.1), with
// their protobuf codecs. The codecs are hand-written: MsgProto is on the hot path and its int64
// timestamp must stay exact (nanoseconds since the epoch exceed 2^53), and the other records carry
// uint64 IDs and sequences that protobufjs would hand back as lossy numbers or Long objects.
// Field numbers follow the reference .proto files exactly; proto3 zero values are omitted.
//
// Representation choices:
// - timestamps (int64 ns) are `bigint`: exact, and a single primitive per message.
// - sequences and IDs (uint64) are `number`: a channel would need 2^53 messages to overflow, so
//   a decoded value above Number.MAX_SAFE_INTEGER is rejected as invalid input.
// - int32 fields are `number`; negative values encode as 10-byte varints, as protobuf requires.

import { EMPTY_BYTES, ProtoReader, ProtoWriter, RecordInvalidError, WIRE_BYTES, WIRE_VARINT, checkInt32, checkUint32, checkUint64, varint64Size, varintSize, writeVarint, writeVarint64 } from './proto-wire.js';

export { RecordInvalidError } from './proto-wire.js';

export interface MsgProto {
  sequence: number; // 1: uint64
  subject: string; // 2
  reply: string; // 3
  data: Uint8Array; // 4
  timestamp: bigint; // 5: int64, ns since the epoch
  redelivered: boolean; // 6
  redeliveryCount: number; // 7: uint32
  crc32: number; // 10: uint32 (never set by the reference server)
}

export interface SubState {
  id: number; // 1: uint64
  clientId: string; // 2
  /** For a durable queue member: `durableName + ":" + group`, with durableName empty. */
  qGroup: string; // 3
  inbox: string; // 4
  ackInbox: string; // 5
  maxInFlight: number; // 6: int32
  ackWaitInSecs: number; // 7: int32
  durableName: string; // 8
  lastSent: number; // 9: uint64
  isDurable: boolean; // 10
  isClosed: boolean; // 11
}

export interface SubStateDelete {
  id: number; // 1: uint64
}

export interface SubStateUpdate {
  id: number; // 1: uint64
  seqno: number; // 2: uint64
}

export interface ServerInfo {
  clusterId: string; // 1
  discovery: string; // 2
  publish: string; // 3
  subscribe: string; // 4
  unsubscribe: string; // 5
  close: string; // 6
  subClose: string; // 7
  acksSubs: string; // 8
  nodeId: string; // 9
}

export interface ClientInfo {
  id: string; // 1
  hbInbox: string; // 2
  connId: Uint8Array; // 3
  protocol: number; // 4: int32
  pingInterval: number; // 5: int32, seconds
  pingMaxOut: number; // 6: int32
}

export interface ClientDelete {
  id: string; // 1
}

export const CtrlMsgType = {
  SubUnsubscribe: 0,
  SubClose: 1,
  ConnClose: 2,
  FTHeartbeat: 3,
  Partitioning: 4,
} as const;

export interface CtrlMsg {
  msgType: number; // 1: enum CtrlMsg.Type (unknown values kept as numbers, as proto3 does)
  serverId: string; // 2
  data: Uint8Array; // 3
  refId: string; // 4 (deprecated)
}

// ------------------------------------------------------------------------------------------
// MsgProto: exact-size encoding in one allocation, no intermediate objects.

function msgProtoBody(msg: MsgProto, subjectLength: number, replyLength: number, tsLo: number, tsHi: number): number {
  let size = 0;
  if (msg.sequence !== 0) size += 1 + varintSize(msg.sequence);
  if (subjectLength !== 0) size += 1 + varintSize(subjectLength) + subjectLength;
  if (replyLength !== 0) size += 1 + varintSize(replyLength) + replyLength;
  if (msg.data.length !== 0) size += 1 + varintSize(msg.data.length) + msg.data.length;
  if (tsLo !== 0 || tsHi !== 0) size += 1 + varint64Size(tsLo, tsHi);
  if (msg.redelivered) size += 2;
  if (msg.redeliveryCount !== 0) size += 1 + varintSize(msg.redeliveryCount);
  if (msg.crc32 !== 0) size += 1 + varintSize(msg.crc32);
  return size;
}

function checkMsgProto(msg: MsgProto): void {
  checkUint64('MsgProto', 'sequence', msg.sequence);
  checkUint32('MsgProto', 'redeliveryCount', msg.redeliveryCount);
  checkUint32('MsgProto', 'crc32', msg.crc32);
  if (typeof msg.timestamp !== 'bigint' || msg.timestamp < INT64_MIN || msg.timestamp > INT64_MAX) {
    throw new RecordInvalidError('MsgProto', 'timestamp must be an int64 bigint');
  }
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
/** 2^7, 2^14 ... 2^63: a non-negative int64 below the i-th bound takes i+1 varint bytes. */
const VARINT_BOUNDS = Array.from({ length: 9 }, (_, i) => 2n ** BigInt(7 * (i + 1)));

function int64VarintSize(value: bigint): number {
  if (value < 0n) return 10;
  for (let i = 0; i < VARINT_BOUNDS.length; i++) if (value < VARINT_BOUNDS[i]!) return i + 1;
  return 10;
}

/**
 * Size in bytes of the encoded MsgProto: the unit of the byte limits (docs/protocol.md §3.2).
 * Allocation-free (bigint comparisons only), since stores call it for every message.
 */
export function msgProtoSize(msg: MsgProto): number {
  const subjectLength = Buffer.byteLength(msg.subject, 'utf8');
  const replyLength = Buffer.byteLength(msg.reply, 'utf8');
  let size = msgProtoBody(msg, subjectLength, replyLength, 0, 0);
  if (msg.timestamp !== 0n) size += 1 + int64VarintSize(msg.timestamp);
  return size;
}

/** Splits an int64 into the unsigned 32-bit halves of its two's complement without BigInt temporaries. */
const int64Halves = new DataView(new ArrayBuffer(8));

/** Writes a string already measured as `length` UTF-8 bytes; short ASCII ones byte by byte. */
function writeText(buf: Buffer, pos: number, text: string, length: number): number {
  if (length !== text.length || length > 64) return pos + buf.write(text, pos, 'utf8');
  for (let i = 0; i < length; i++) buf[pos + i] = text.charCodeAt(i);
  return pos + length;
}

/** Bytes of `msg` encoded, after checking it (RecordInvalidError): what encodeMsgProtoInto writes. */
export function encodedMsgProtoSize(msg: MsgProto): number {
  checkMsgProto(msg);
  const subjectLength = Buffer.byteLength(msg.subject, 'utf8');
  const replyLength = msg.reply === '' ? 0 : Buffer.byteLength(msg.reply, 'utf8');
  int64Halves.setBigUint64(0, msg.timestamp, true);
  return msgProtoBody(msg, subjectLength, replyLength, int64Halves.getUint32(0, true), int64Halves.getUint32(4, true));
}

export function encodeMsgProto(msg: MsgProto): Buffer {
  const buf = Buffer.allocUnsafe(encodedMsgProtoSize(msg));
  encodeMsgProtoInto(msg, buf, 0);
  return buf;
}

/**
 * Writes `msg` at `pos` of `buf`, which must have room for encodedMsgProtoSize(msg) bytes (that
 * call also checks the message); returns the position after it. Lets a store frame a whole batch
 * in one buffer, without a buffer per message.
 */
export function encodeMsgProtoInto(msg: MsgProto, buf: Buffer, pos: number): number {
  const subjectLength = Buffer.byteLength(msg.subject, 'utf8');
  const replyLength = msg.reply === '' ? 0 : Buffer.byteLength(msg.reply, 'utf8');
  // The view holds nothing between calls: set and read back at once (BigInt.asUintN(64) semantics).
  int64Halves.setBigUint64(0, msg.timestamp, true);
  const tsLo = int64Halves.getUint32(0, true);
  const tsHi = int64Halves.getUint32(4, true);
  if (msg.sequence !== 0) {
    buf[pos++] = 0x08;
    pos = writeVarint(buf, pos, msg.sequence);
  }
  if (subjectLength !== 0) {
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, subjectLength);
    pos = writeText(buf, pos, msg.subject, subjectLength);
  }
  if (replyLength !== 0) {
    buf[pos++] = 0x1a;
    pos = writeVarint(buf, pos, replyLength);
    pos = writeText(buf, pos, msg.reply, replyLength);
  }
  if (msg.data.length !== 0) {
    buf[pos++] = 0x22;
    pos = writeVarint(buf, pos, msg.data.length);
    buf.set(msg.data, pos);
    pos += msg.data.length;
  }
  if (tsLo !== 0 || tsHi !== 0) {
    buf[pos++] = 0x28;
    pos = writeVarint64(buf, pos, tsLo, tsHi);
  }
  if (msg.redelivered) {
    buf[pos++] = 0x30;
    buf[pos++] = 1;
  }
  if (msg.redeliveryCount !== 0) {
    buf[pos++] = 0x38;
    pos = writeVarint(buf, pos, msg.redeliveryCount);
  }
  if (msg.crc32 !== 0) {
    buf[pos++] = 0x50;
    pos = writeVarint(buf, pos, msg.crc32);
  }
  return pos;
}

/**
 * Length of the data field of an encoded MsgProto, read without decoding the rest (0 when absent
 * or when the bytes are not a MsgProto this server encoded).
 */
export function msgProtoDataLength(bytes: Uint8Array): number {
  let pos = 0;
  while (pos < bytes.length) {
    const tag = bytes[pos++]!;
    const wire = tag & 7;
    let value = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = bytes[pos++] ?? 0;
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte >= 0x80 && pos < bytes.length);
    if (tag === 0x22) return value;
    if (wire === WIRE_BYTES) pos += value;
    else if (wire !== WIRE_VARINT) return 0;
  }
  return 0;
}

/**
 * Where the data field of an encoded MsgProto is: the offset of its tag, and the bytes of its value
 * (`start` to `end`). Undefined when there is none, or the bytes are not a MsgProto that this walk
 * understands (a caller then decodes them the usual way).
 */
export function msgProtoDataRange(bytes: Uint8Array): { tagAt: number; start: number; end: number } | undefined {
  let pos = 0;
  while (pos < bytes.length) {
    const tagAt = pos;
    const tag = bytes[pos++]!;
    const wire = tag & 7;
    if (tag >= 0x80) return undefined; // a field number over 15: not one of ours
    let value = 0;
    let scale = 1;
    let byte: number;
    do {
      if (pos >= bytes.length) return undefined;
      byte = bytes[pos++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte >= 0x80);
    if (wire === WIRE_BYTES) {
      if (pos + value > bytes.length) return undefined;
      if (tag === 0x22) return { tagAt, start: pos, end: pos + value };
      pos += value;
    } else if (wire !== WIRE_VARINT) {
      return undefined;
    }
  }
  return undefined;
}

/**
 * A new encoding of the MsgProto `bytes` with the value of its data field (at `range`, from
 * msgProtoDataRange) replaced by `data`; every other byte as it was.
 */
export function withMsgProtoData(bytes: Uint8Array, range: { tagAt: number; end: number }, data: Uint8Array): Buffer {
  const tail = bytes.length - range.end;
  const out = Buffer.allocUnsafe(range.tagAt + 1 + varintSize(data.length) + data.length + tail);
  out.set(bytes.subarray(0, range.tagAt), 0);
  let pos = range.tagAt;
  out[pos++] = 0x22;
  pos = writeVarint(out, pos, data.length);
  out.set(data, pos);
  out.set(bytes.subarray(range.end), pos + data.length);
  return out;
}

export function emptyMsgProto(): MsgProto {
  return {
    sequence: 0,
    subject: '',
    reply: '',
    data: EMPTY_BYTES,
    timestamp: 0n,
    redelivered: false,
    redeliveryCount: 0,
    crc32: 0,
  };
}

/**
 * Decodes a MsgProto. `data` is a copy unless `copyData` is false, when it is a view into `bytes`
 * (for callers that hand over a buffer they never reuse, avoiding one copy per message).
 */
export function decodeMsgProto(bytes: Uint8Array, copyData = true): MsgProto {
  const r = new ProtoReader(bytes, 'MsgProto', copyData);
  const msg = emptyMsgProto();
  while (r.pos < r.end) {
    const field = r.tag();
    const wire = r.lo;
    switch (field) {
      case 1: r.expect(WIRE_VARINT, wire, 'sequence'); msg.sequence = r.uint64('sequence'); break;
      case 2: r.expect(WIRE_BYTES, wire, 'subject'); msg.subject = r.string(); break;
      case 3: r.expect(WIRE_BYTES, wire, 'reply'); msg.reply = r.string(); break;
      case 4: r.expect(WIRE_BYTES, wire, 'data'); msg.data = r.bytes(); break;
      case 5: r.expect(WIRE_VARINT, wire, 'timestamp'); msg.timestamp = r.int64(); break;
      case 6: r.expect(WIRE_VARINT, wire, 'redelivered'); msg.redelivered = r.bool(); break;
      case 7: r.expect(WIRE_VARINT, wire, 'redeliveryCount'); msg.redeliveryCount = r.uint32(); break;
      case 10: r.expect(WIRE_VARINT, wire, 'CRC32'); msg.crc32 = r.uint32(); break;
      default: r.skip(wire);
    }
  }
  return msg;
}

// ------------------------------------------------------------------------------------------
// The other records: one field table each drives both directions.

type FieldKind = 'uint64' | 'int32' | 'uint32' | 'bool' | 'string' | 'bytes';
type FieldTable<T> = ReadonlyArray<readonly [number, keyof T & string, FieldKind]>;

const WIRE_OF: Record<FieldKind, number> = {
  uint64: WIRE_VARINT,
  int32: WIRE_VARINT,
  uint32: WIRE_VARINT,
  bool: WIRE_VARINT,
  string: WIRE_BYTES,
  bytes: WIRE_BYTES,
};

function encodeWith<T>(record: string, table: FieldTable<T>, value: T): Buffer {
  const w = new ProtoWriter();
  for (const [field, key, kind] of table) {
    const v = value[key] as unknown;
    switch (kind) {
      case 'uint64': checkUint64(record, key, v as number); w.uint64(field, v as number); break;
      case 'int32': checkInt32(record, key, v as number); w.int32(field, v as number); break;
      case 'uint32': checkUint32(record, key, v as number); w.uint64(field, v as number); break;
      case 'bool': w.bool(field, v === true); break;
      case 'string':
        if (typeof v !== 'string') throw new RecordInvalidError(record, `${key} must be a string`);
        w.string(field, v);
        break;
      case 'bytes':
        if (!(v instanceof Uint8Array)) throw new RecordInvalidError(record, `${key} must be bytes`);
        w.bytes(field, v);
        break;
    }
  }
  return w.finish();
}

function decodeWith<T>(record: string, table: FieldTable<T>, bytes: Uint8Array, into: T): T {
  const r = new ProtoReader(bytes, record);
  const target = into as Record<string, unknown>;
  while (r.pos < r.end) {
    const field = r.tag();
    const wire = r.lo;
    const entry = table.find((e) => e[0] === field);
    if (entry === undefined) {
      r.skip(wire);
      continue;
    }
    const [, key, kind] = entry;
    r.expect(WIRE_OF[kind], wire, key);
    switch (kind) {
      case 'uint64': target[key] = r.uint64(key); break;
      case 'int32': target[key] = r.int32(); break;
      case 'uint32': target[key] = r.uint32(); break;
      case 'bool': target[key] = r.bool(); break;
      case 'string': target[key] = r.string(); break;
      case 'bytes': target[key] = r.bytes(); break;
    }
  }
  return into;
}

const SUB_STATE: FieldTable<SubState> = [
  [1, 'id', 'uint64'], [2, 'clientId', 'string'], [3, 'qGroup', 'string'], [4, 'inbox', 'string'],
  [5, 'ackInbox', 'string'], [6, 'maxInFlight', 'int32'], [7, 'ackWaitInSecs', 'int32'],
  [8, 'durableName', 'string'], [9, 'lastSent', 'uint64'], [10, 'isDurable', 'bool'],
  [11, 'isClosed', 'bool'],
];
const SUB_STATE_DELETE: FieldTable<SubStateDelete> = [[1, 'id', 'uint64']];
const SUB_STATE_UPDATE: FieldTable<SubStateUpdate> = [[1, 'id', 'uint64'], [2, 'seqno', 'uint64']];
const SERVER_INFO: FieldTable<ServerInfo> = [
  [1, 'clusterId', 'string'], [2, 'discovery', 'string'], [3, 'publish', 'string'],
  [4, 'subscribe', 'string'], [5, 'unsubscribe', 'string'], [6, 'close', 'string'],
  [7, 'subClose', 'string'], [8, 'acksSubs', 'string'], [9, 'nodeId', 'string'],
];
const CLIENT_INFO: FieldTable<ClientInfo> = [
  [1, 'id', 'string'], [2, 'hbInbox', 'string'], [3, 'connId', 'bytes'], [4, 'protocol', 'int32'],
  [5, 'pingInterval', 'int32'], [6, 'pingMaxOut', 'int32'],
];
const CLIENT_DELETE: FieldTable<ClientDelete> = [[1, 'id', 'string']];
const CTRL_MSG: FieldTable<CtrlMsg> = [
  [1, 'msgType', 'int32'], [2, 'serverId', 'string'], [3, 'data', 'bytes'], [4, 'refId', 'string'],
];

export function emptySubState(): SubState {
  return {
    id: 0, clientId: '', qGroup: '', inbox: '', ackInbox: '', maxInFlight: 0, ackWaitInSecs: 0,
    durableName: '', lastSent: 0, isDurable: false, isClosed: false,
  };
}
export function emptyServerInfo(): ServerInfo {
  return {
    clusterId: '', discovery: '', publish: '', subscribe: '', unsubscribe: '', close: '',
    subClose: '', acksSubs: '', nodeId: '',
  };
}
export function emptyClientInfo(): ClientInfo {
  return { id: '', hbInbox: '', connId: EMPTY_BYTES, protocol: 0, pingInterval: 0, pingMaxOut: 0 };
}

export const encodeSubState = (v: SubState): Buffer => encodeWith('SubState', SUB_STATE, v);
export const decodeSubState = (b: Uint8Array): SubState => decodeWith('SubState', SUB_STATE, b, emptySubState());
export const encodeSubStateDelete = (v: SubStateDelete): Buffer =>
  encodeWith('SubStateDelete', SUB_STATE_DELETE, v);
export const decodeSubStateDelete = (b: Uint8Array): SubStateDelete =>
  decodeWith('SubStateDelete', SUB_STATE_DELETE, b, { id: 0 });
export const encodeSubStateUpdate = (v: SubStateUpdate): Buffer =>
  encodeWith('SubStateUpdate', SUB_STATE_UPDATE, v);
export const decodeSubStateUpdate = (b: Uint8Array): SubStateUpdate =>
  decodeWith('SubStateUpdate', SUB_STATE_UPDATE, b, { id: 0, seqno: 0 });
export const encodeServerInfo = (v: ServerInfo): Buffer => encodeWith('ServerInfo', SERVER_INFO, v);
export const decodeServerInfo = (b: Uint8Array): ServerInfo =>
  decodeWith('ServerInfo', SERVER_INFO, b, emptyServerInfo());
export const encodeClientInfo = (v: ClientInfo): Buffer => encodeWith('ClientInfo', CLIENT_INFO, v);
export const decodeClientInfo = (b: Uint8Array): ClientInfo =>
  decodeWith('ClientInfo', CLIENT_INFO, b, emptyClientInfo());
export const encodeClientDelete = (v: ClientDelete): Buffer => encodeWith('ClientDelete', CLIENT_DELETE, v);
export const decodeClientDelete = (b: Uint8Array): ClientDelete =>
  decodeWith('ClientDelete', CLIENT_DELETE, b, { id: '' });
export const encodeCtrlMsg = (v: CtrlMsg): Buffer => encodeWith('CtrlMsg', CTRL_MSG, v);
export const decodeCtrlMsg = (b: Uint8Array): CtrlMsg =>
  decodeWith('CtrlMsg', CTRL_MSG, b, { msgType: 0, serverId: '', data: EMPTY_BYTES, refId: '' });
