// The client protocol's messages (proto/protocol.proto, package pb) as static field tables, one line
// per field as in docs/protocol.md §2.1, and the one encoder and decoder that read them. Static
// tables instead of parsing the .proto file at start: a server answers its first connect without
// loading a protobuf library. Only control messages and tools come through here; the per-message
// paths (PubMsg, PubAck, Ack, MsgProto deliveries) have their own codecs (pub-decoder.ts,
// protocol.ts, src/store/records.ts).
//
// Decoded messages look as protobufjs's toObject({ defaults: true, longs: Number }) made them:
// every field present, zero values for absent ones, 64-bit integers as numbers (exact to 2^53,
// rounded beyond: a startSequence past every stored message stays past it), bytes as Buffers.
import { Buffer } from 'node:buffer';
import { assertNever } from '../util/assert.js';
import {
  ProtocolMessageInvalidError,
  ProtocolReader,
  WireType,
  int64ToNumber,
  uint64ToNumber,
  writeFields,
  type EncodedField,
  type EncodedValue,
} from './protocol-wire.js';

type FieldType = 'string' | 'bytes' | 'int32' | 'uint32' | 'uint64' | 'int64' | 'bool' | 'enum';
type FieldSpec = readonly [name: string, field: number, type: FieldType];

/** Field tables in field-number order; `enum` is StartPosition, carried as an int32. */
export const PROTOCOL_MESSAGES = {
  PubMsg: [['clientID', 1, 'string'], ['guid', 2, 'string'], ['subject', 3, 'string'], ['reply', 4, 'string'], ['data', 5, 'bytes'], ['connID', 6, 'bytes'], ['sha256', 10, 'bytes']],
  PubAck: [['guid', 1, 'string'], ['error', 2, 'string']],
  MsgProto: [
    ['sequence', 1, 'uint64'], ['subject', 2, 'string'], ['reply', 3, 'string'], ['data', 4, 'bytes'], ['timestamp', 5, 'int64'],
    ['redelivered', 6, 'bool'], ['redeliveryCount', 7, 'uint32'], ['CRC32', 10, 'uint32'],
  ],
  Ack: [['subject', 1, 'string'], ['sequence', 2, 'uint64']],
  ConnectRequest: [
    ['clientID', 1, 'string'], ['heartbeatInbox', 2, 'string'], ['protocol', 3, 'int32'], ['connID', 4, 'bytes'],
    ['pingInterval', 5, 'int32'], ['pingMaxOut', 6, 'int32'],
  ],
  ConnectResponse: [
    ['pubPrefix', 1, 'string'], ['subRequests', 2, 'string'], ['unsubRequests', 3, 'string'], ['closeRequests', 4, 'string'],
    ['error', 5, 'string'], ['subCloseRequests', 6, 'string'], ['pingRequests', 7, 'string'], ['pingInterval', 8, 'int32'],
    ['pingMaxOut', 9, 'int32'], ['protocol', 10, 'int32'], ['publicKey', 100, 'string'],
  ],
  Ping: [['connID', 1, 'bytes']],
  PingResponse: [['error', 1, 'string']],
  SubscriptionRequest: [
    ['clientID', 1, 'string'], ['subject', 2, 'string'], ['qGroup', 3, 'string'], ['inbox', 4, 'string'], ['maxInFlight', 5, 'int32'],
    ['ackWaitInSecs', 6, 'int32'], ['durableName', 7, 'string'], ['startPosition', 10, 'enum'], ['startSequence', 11, 'uint64'],
    ['startTimeDelta', 12, 'int64'],
  ],
  // No field 1.
  SubscriptionResponse: [['ackInbox', 2, 'string'], ['error', 3, 'string']],
  UnsubscribeRequest: [['clientID', 1, 'string'], ['subject', 2, 'string'], ['inbox', 3, 'string'], ['durableName', 4, 'string']],
  CloseRequest: [['clientID', 1, 'string']],
  CloseResponse: [['error', 1, 'string']],
} as const satisfies Record<string, readonly FieldSpec[]>;

export type MessageName = keyof typeof PROTOCOL_MESSAGES;

type ValueOf<T extends FieldType> = T extends 'string' ? string : T extends 'bytes' ? Uint8Array : T extends 'bool' ? boolean : number;

/** A decoded message of the protocol: every field present. */
export type MessageOf<N extends MessageName> = {
  -readonly [F in (typeof PROTOCOL_MESSAGES)[N][number] as F[0]]: ValueOf<F[2]>;
};

function fieldsOf(name: MessageName): readonly FieldSpec[] {
  return PROTOCOL_MESSAGES[name];
}

function expectedWireType(type: FieldType): number {
  return type === 'string' || type === 'bytes' ? WireType.bytes : WireType.varint;
}

function zeroOf(type: FieldType): string | Buffer | number | boolean {
  switch (type) {
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'bool':
      return false;
    case 'int32':
    case 'uint32':
    case 'uint64':
    case 'int64':
    case 'enum':
      return 0;
    default:
      return assertNever(type, 'field type');
  }
}

function readValue(reader: ProtocolReader, type: FieldType): string | Buffer | number | boolean {
  switch (type) {
    case 'string':
      return reader.string();
    case 'bytes':
      return reader.bytesField();
    case 'bool':
      return reader.bool();
    case 'int32':
    case 'enum':
      reader.varint();
      return reader.lo | 0;
    case 'uint32':
      reader.varint();
      return reader.lo;
    case 'uint64':
      reader.varint();
      return uint64ToNumber(reader.lo, reader.hi);
    case 'int64':
      reader.varint();
      return int64ToNumber(reader.lo, reader.hi);
    default:
      return assertNever(type, 'field type');
  }
}

/**
 * Decodes message `name`; throws ProtocolMessageInvalidError on bytes that are not a valid encoding.
 * Unknown fields are skipped; a known field with another wire type is refused, as the reference
 * server refuses it; a repeated field's last value wins.
 */
export function decodeMessage<N extends MessageName>(name: N, bytes: Uint8Array): MessageOf<N> {
  const fields = fieldsOf(name);
  const message: Record<string, string | Buffer | number | boolean> = {};
  for (const [key, , type] of fields) message[key] = zeroOf(type);
  const reader = new ProtocolReader(bytes, name);
  while (!reader.done) {
    const field = reader.tag();
    const spec = fields.find((candidate) => candidate[1] === field);
    if (spec === undefined) {
      reader.skip(reader.wireType, field);
      continue;
    }
    const [key, , type] = spec;
    if (reader.wireType !== expectedWireType(type)) reader.fail(`field ${key} has wire type ${reader.wireType}`);
    message[key] = readValue(reader, type);
  }
  return message as MessageOf<N>;
}

function refuse(name: MessageName, key: string, expected: string, value: unknown): never {
  throw new ProtocolMessageInvalidError(name, `${key} must be ${expected}, got ${String(value)}`);
}

function integerOf(name: MessageName, key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) refuse(name, key, `an integer in [${min}, ${max}]`, value);
  return value;
}

/** The wire value of one field, or null for a zero value (proto3 writes none). */
function encodeValue(name: MessageName, key: string, type: FieldType, value: unknown): EncodedValue | null {
  switch (type) {
    case 'string':
      if (typeof value !== 'string') return refuse(name, key, 'a string', value);
      return value === '' ? null : { kind: 'string', value, length: Buffer.byteLength(value, 'utf8') };
    case 'bytes':
      if (!(value instanceof Uint8Array)) return refuse(name, key, 'a Uint8Array', value);
      return value.length === 0 ? null : { kind: 'bytes', value };
    case 'bool':
      if (typeof value !== 'boolean') return refuse(name, key, 'a boolean', value);
      return value ? { kind: 'varint', value: 1 } : null;
    case 'int32':
    case 'enum': {
      const number = integerOf(name, key, value, -0x80000000, 0x7fffffff);
      // A negative int32 goes out sign-extended to 64 bits: ten bytes.
      if (number < 0) return { kind: 'varint64', lo: number >>> 0, hi: 0xffffffff };
      return number === 0 ? null : { kind: 'varint', value: number };
    }
    case 'uint32': {
      const number = integerOf(name, key, value, 0, 0xffffffff);
      return number === 0 ? null : { kind: 'varint', value: number };
    }
    case 'uint64': {
      const number = integerOf(name, key, value, 0, Number.MAX_SAFE_INTEGER);
      return number === 0 ? null : { kind: 'varint', value: number };
    }
    case 'int64': {
      const number = integerOf(name, key, value, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      if (number >= 0) return number === 0 ? null : { kind: 'varint', value: number };
      const hi = Math.floor(number / 2 ** 32);
      return { kind: 'varint64', lo: number - hi * 2 ** 32, hi: hi >>> 0 };
    }
    default:
      return assertNever(type, 'field type');
  }
}

/** Encodes message `name`; absent and zero fields are not written. Throws on out-of-range numbers. */
export function encodeMessage<N extends MessageName>(name: N, message: Partial<MessageOf<N>>): Buffer {
  const values = message as Partial<Record<string, unknown>>;
  const encoded: EncodedField[] = [];
  for (const [key, field, type] of fieldsOf(name)) {
    const value = values[key];
    if (value === undefined) continue;
    const wire = encodeValue(name, key, type, value);
    if (wire !== null) encoded.push({ field, value: wire });
  }
  return writeFields(encoded);
}
