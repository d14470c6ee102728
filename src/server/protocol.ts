// Client protocol messages (proto/protocol.proto, package pb) through protobufjs, loaded at run
// time from the package root so it works from src/ under vitest and from dist/. MsgProto on the
// delivery path is encoded by the store's records codec instead (exact nanosecond timestamps);
// Ack, which arrives once per delivered message, has a small hand decoder here.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { PubMsgDecoder, encodePubAck, guidOf } from './pub-decoder.js';

export interface PubMsg {
  clientID: string;
  guid: string;
  subject: string;
  reply: string;
  data: Uint8Array;
  connID: Uint8Array;
}
export interface ConnectRequest {
  clientID: string;
  heartbeatInbox: string;
  protocol: number;
  connID: Uint8Array;
  pingInterval: number;
  pingMaxOut: number;
}
export interface ConnectResponse {
  pubPrefix?: string;
  subRequests?: string;
  unsubRequests?: string;
  closeRequests?: string;
  error?: string;
  subCloseRequests?: string;
  pingRequests?: string;
  pingInterval?: number;
  pingMaxOut?: number;
  protocol?: number;
}
export interface SubscriptionRequest {
  clientID: string;
  subject: string;
  qGroup: string;
  inbox: string;
  maxInFlight: number;
  ackWaitInSecs: number;
  durableName: string;
  startPosition: number;
  startSequence: number;
  startTimeDelta: number;
}
export interface UnsubscribeRequest {
  clientID: string;
  subject: string;
  inbox: string;
  durableName: string;
}
export interface Ack {
  subject: string;
  sequence: number;
}

function findProtoFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, 'proto', 'protocol.proto');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('proto/protocol.proto not found above ' + fileURLToPath(import.meta.url));
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, defaults: true, bytes: Uint8Array as never };

/** Encoders and decoders of one loaded copy of the protocol; decoders throw on malformed input. */
export class StanCodec {
  private readonly pubMsg: protobuf.Type;
  private readonly pubAck: protobuf.Type;
  private readonly msgProto: protobuf.Type;
  private readonly connectRequest: protobuf.Type;
  private readonly connectResponse: protobuf.Type;
  private readonly ping: protobuf.Type;
  private readonly pingResponse: protobuf.Type;
  private readonly subscriptionRequest: protobuf.Type;
  private readonly subscriptionResponse: protobuf.Type;
  private readonly unsubscribeRequest: protobuf.Type;
  private readonly closeRequest: protobuf.Type;
  private readonly closeResponse: protobuf.Type;
  private readonly ack: protobuf.Type;

  constructor(private readonly root: protobuf.Root = protobuf.loadSync(findProtoFile())) {
    this.pubMsg = root.lookupType('pb.PubMsg');
    this.pubAck = root.lookupType('pb.PubAck');
    this.msgProto = root.lookupType('pb.MsgProto');
    this.connectRequest = root.lookupType('pb.ConnectRequest');
    this.connectResponse = root.lookupType('pb.ConnectResponse');
    this.ping = root.lookupType('pb.Ping');
    this.pingResponse = root.lookupType('pb.PingResponse');
    this.subscriptionRequest = root.lookupType('pb.SubscriptionRequest');
    this.subscriptionResponse = root.lookupType('pb.SubscriptionResponse');
    this.unsubscribeRequest = root.lookupType('pb.UnsubscribeRequest');
    this.closeRequest = root.lookupType('pb.CloseRequest');
    this.closeResponse = root.lookupType('pb.CloseResponse');
    this.ack = root.lookupType('pb.Ack');
  }

  private decode<T>(type: protobuf.Type, bytes: Uint8Array): T {
    return type.toObject(type.decode(bytes), toObjectOptions) as T;
  }

  decodePubMsg(bytes: Uint8Array): PubMsg {
    return this.decode<PubMsg>(this.pubMsg, bytes);
  }
  decodeConnectRequest(bytes: Uint8Array): ConnectRequest {
    return this.decode<ConnectRequest>(this.connectRequest, bytes);
  }
  decodeSubscriptionRequest(bytes: Uint8Array): SubscriptionRequest {
    return this.decode<SubscriptionRequest>(this.subscriptionRequest, bytes);
  }
  decodeUnsubscribeRequest(bytes: Uint8Array): UnsubscribeRequest {
    return this.decode<UnsubscribeRequest>(this.unsubscribeRequest, bytes);
  }
  decodeCloseRequest(bytes: Uint8Array): { clientID: string } {
    return this.decode<{ clientID: string }>(this.closeRequest, bytes);
  }
  decodePing(bytes: Uint8Array): { connID: Uint8Array } {
    return this.decode<{ connID: Uint8Array }>(this.ping, bytes);
  }
  /** For tests and tools: the server itself never decodes these. */
  decodeResponse<T>(name: 'PubAck' | 'ConnectResponse' | 'SubscriptionResponse' | 'CloseResponse' | 'PingResponse' | 'MsgProto', bytes: Uint8Array): T {
    return this.decode<T>(this.typeOf(name), bytes);
  }

  /** A message type of package pb by name, e.g. 'PubAck'. */
  private typeOf(name: string): protobuf.Type {
    const type = this.root.lookup(`pb.${name}`);
    if (!(type instanceof protobuf.Type)) throw new Error(`unknown protocol message ${name}`);
    return type;
  }

  /** Encodes any message of the protocol by name (tests, probes, tools). */
  encode(name: string, fields: Record<string, unknown>): Uint8Array {
    const type = this.typeOf(name);
    return type.encode(type.fromObject(fields)).finish();
  }

  encodePubAck(guid: string, error: string): Uint8Array {
    return this.pubAck.encode(error === '' ? { guid } : { guid, error }).finish();
  }
  encodeConnectResponse(response: ConnectResponse): Uint8Array {
    return this.connectResponse.encode(response).finish();
  }
  encodeSubscriptionResponse(ackInbox: string, error: string): Uint8Array {
    return this.subscriptionResponse.encode(error === '' ? { ackInbox } : { error }).finish();
  }
  encodeCloseResponse(error: string): Uint8Array {
    return this.closeResponse.encode(error === '' ? {} : { error }).finish();
  }
  encodePingResponse(error: string): Uint8Array {
    return this.pingResponse.encode(error === '' ? {} : { error }).finish();
  }
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Where an Ack's fields lie in its bytes; the subject is the last one present (proto3). */
interface AckFields {
  sequence: number;
  subjectStart: number;
  subjectLength: number;
  subjectCount: number;
}

/**
 * Walks Ack{subject=1:string, sequence=2:uint64} without protobufjs or decoding the subject.
 * `onSubject` sees every subject field and may reject it. Returns null on malformed input.
 */
function scanAck(bytes: Uint8Array, onSubject?: (start: number, length: number) => boolean): AckFields | null {
  const fields: AckFields = { sequence: 0, subjectStart: 0, subjectLength: 0, subjectCount: 0 };
  let pos = 0;
  while (pos < bytes.length) {
    const key = bytes[pos++]!;
    const field = key >>> 3;
    const wire = key & 7;
    if (key >= 0x80) return null;
    if (wire === 0 || wire === 2) {
      let value = 0;
      let scale = 1;
      // A varint field takes up to 10 bytes; a length prefix here never more than 5.
      for (let i = 0; ; i++) {
        if (pos >= bytes.length || i >= (wire === 0 ? 10 : 5)) return null;
        const b = bytes[pos++]!;
        value += (b & 0x7f) * scale;
        scale *= 128;
        if (b < 0x80) break;
      }
      if (wire === 0) {
        if (field === 2) fields.sequence = value;
        continue;
      }
      if (pos + value > bytes.length) return null;
      if (field === 1) {
        if (onSubject !== undefined && !onSubject(pos, value)) return null;
        fields.subjectStart = pos;
        fields.subjectLength = value;
        fields.subjectCount++;
      }
      pos += value;
    } else if (wire === 5) {
      pos += 4;
    } else if (wire === 1) {
      pos += 8;
    } else {
      return null;
    }
  }
  return pos > bytes.length ? null : fields;
}

/**
 * Decodes an Ack: one arrives per delivered message. Returns null on malformed input (acks have
 * no reply, so bad ones are dropped).
 */
export function decodeAck(bytes: Uint8Array): Ack | null {
  let subject = '';
  // Every subject field must be valid UTF-8; the last one present wins.
  const fields = scanAck(bytes, (start, length) => {
    try {
      subject = textDecoder.decode(bytes.subarray(start, start + length));
      return true;
    } catch {
      return false;
    }
  });
  return fields === null ? null : { subject, sequence: fields.sequence };
}

/**
 * The sequence of an Ack for the channel whose UTF-8 name is `channelBytes`, or -1 when the Ack
 * is malformed or names another channel: what `decodeAck` and a comparison of its subject with
 * the name would say, without decoding the subject of every ack.
 */
export function ackedSequence(bytes: Uint8Array, channelBytes: Uint8Array | null, channel: string): number {
  if (channelBytes === null) return slowAckedSequence(bytes, channel);
  const fields = scanAck(bytes);
  if (fields === null) return -1;
  if (fields.subjectCount === 0) return channelBytes.length === 0 ? fields.sequence : -1;
  if (fields.subjectCount === 1 && sameBytes(bytes, fields.subjectStart, fields.subjectLength, channelBytes)) {
    return fields.sequence;
  }
  // Another subject, invalid UTF-8 or a repeated field: the exact reading decides.
  return slowAckedSequence(bytes, channel);
}

/** Another subject, invalid UTF-8 or a repeated field: the exact reading decides. */
function slowAckedSequence(bytes: Uint8Array, channel: string): number {
  const ack = decodeAck(bytes);
  return ack === null || ack.subject !== channel ? -1 : ack.sequence;
}

function sameBytes(bytes: Uint8Array, start: number, length: number, expected: Uint8Array): boolean {
  if (length !== expected.length) return false;
  for (let i = 0; i < length; i++) if (bytes[start + i] !== expected[i]) return false;
  return true;
}

/** A publish as the hot path reads it: `data` is a view of the NATS buffer, `connId` a latin1 key. */
export interface PubMsgView {
  clientID: string;
  guid: string;
  subject: string;
  reply: string;
  data: Uint8Array;
  connId: string;
}

/**
 * Decodes PubMsg (docs/protocol.md §2.1) without protobufjs; null when the bytes are not a valid
 * encoding. The server itself uses a long-lived PubMsgDecoder (pub-decoder.ts).
 */
export function decodePubMsgView(bytes: Uint8Array): PubMsgView | null {
  const fields = new PubMsgDecoder().decode(bytes);
  if (fields === null) return null;
  const { clientID, subject, reply, data, connId } = fields;
  return { clientID, guid: guidOf(fields), subject, reply, data, connId };
}

/** PubAck{guid=1, error=2} without protobufjs: one goes out per published message. */
export function encodePubAckFast(guid: string, error: string): Buffer {
  return encodePubAck(guid, error);
}
