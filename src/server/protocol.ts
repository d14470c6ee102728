// Client protocol messages (proto/protocol.proto, package pb, docs/protocol.md §2.1). StanCodec is
// the control path's codec, on the static field tables of protocol-messages.ts: no protobuf library
// is loaded and no .proto file parsed at start. The per-message paths have smaller codecs of their
// own: PubMsg and PubAck in pub-decoder.ts, Ack below, MsgProto deliveries in the store's records
// codec (exact nanosecond timestamps).
import { PubMsgDecoder, encodePubAck, guidOf } from './pub-decoder.js';
import { decodeMessage, encodeMessage, type MessageName, type MessageOf } from './protocol-messages.js';
import { ProtocolMessageInvalidError } from './protocol-wire.js';

export { ProtocolMessageInvalidError };
export type { MessageName, MessageOf } from './protocol-messages.js';

export type PubMsg = MessageOf<'PubMsg'>;
export type ConnectRequest = MessageOf<'ConnectRequest'>;
export type ConnectResponse = MessageOf<'ConnectResponse'>;
export type SubscriptionRequest = MessageOf<'SubscriptionRequest'>;
export type UnsubscribeRequest = MessageOf<'UnsubscribeRequest'>;
export type Ack = MessageOf<'Ack'>;

/**
 * Encoders and decoders of the protocol's messages. Decoders throw ProtocolMessageInvalidError
 * (code STAN_MESSAGE_INVALID) on bytes that are not a valid encoding.
 */
export class StanCodec {
  decodePubMsg(bytes: Uint8Array): PubMsg {
    return decodeMessage('PubMsg', bytes);
  }
  decodeConnectRequest(bytes: Uint8Array): ConnectRequest {
    return decodeMessage('ConnectRequest', bytes);
  }
  decodeSubscriptionRequest(bytes: Uint8Array): SubscriptionRequest {
    return decodeMessage('SubscriptionRequest', bytes);
  }
  decodeUnsubscribeRequest(bytes: Uint8Array): UnsubscribeRequest {
    return decodeMessage('UnsubscribeRequest', bytes);
  }
  decodeCloseRequest(bytes: Uint8Array): MessageOf<'CloseRequest'> {
    return decodeMessage('CloseRequest', bytes);
  }
  decodePing(bytes: Uint8Array): MessageOf<'Ping'> {
    return decodeMessage('Ping', bytes);
  }
  /** Any message of the protocol by name; for tests, probes and tools (the server decodes requests only). */
  decodeResponse<N extends MessageName>(name: N, bytes: Uint8Array): MessageOf<N> {
    return decodeMessage(name, bytes);
  }

  /** Encodes any message of the protocol by name (tests, probes, tools); absent fields are zero. */
  encode<N extends MessageName>(name: N, fields: Partial<MessageOf<N>>): Uint8Array {
    return encodeMessage(name, fields);
  }

  encodePubAck(guid: string, error: string): Uint8Array {
    return encodePubAck(guid, error);
  }
  encodeConnectResponse(response: Partial<ConnectResponse>): Uint8Array {
    return encodeMessage('ConnectResponse', response);
  }
  /** A success carries only the ack inbox, a refusal only the error (as the reference answers). */
  encodeSubscriptionResponse(ackInbox: string, error: string): Uint8Array {
    return encodeMessage('SubscriptionResponse', error === '' ? { ackInbox } : { error });
  }
  encodeCloseResponse(error: string): Uint8Array {
    return encodeMessage('CloseResponse', { error });
  }
  encodePingResponse(error: string): Uint8Array {
    return encodeMessage('PingResponse', { error });
  }
}

// A leading byte-order mark is part of the subject, as in every other string of the protocol.
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Where an Ack's fields lie in its bytes; the subject is the last one present (proto3). */
interface AckFields {
  sequence: number;
  subjectStart: number;
  subjectLength: number;
  subjectCount: number;
}

/**
 * What scanAck fills and returns, one object for every call (one ack arrives per delivery): its
 * callers read it before they scan another ack.
 */
const scratchAck: AckFields = { sequence: 0, subjectStart: 0, subjectLength: 0, subjectCount: 0 };

/** scanAck leaves the shapes no client sends to the exact decoder (see decodeAckExactly). */
const UNUSUAL_ACK = 'unusual';

/**
 * Walks Ack{subject=1:string, sequence=2:uint64} without decoding the subject. `onSubject` sees
 * every subject field and may reject it. Returns null on malformed input, UNUSUAL_ACK on what it
 * does not read itself: field number 0 or above 15, groups, varints of 8 bytes or more.
 */
function scanAck(bytes: Uint8Array, onSubject?: (start: number, length: number) => boolean): AckFields | null | typeof UNUSUAL_ACK {
  const fields = scratchAck;
  fields.sequence = 0;
  fields.subjectStart = 0;
  fields.subjectLength = 0;
  fields.subjectCount = 0;
  let pos = 0;
  while (pos < bytes.length) {
    const key = bytes[pos++]!;
    if (key >= 0x80 || key < 8) return UNUSUAL_ACK;
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0 || wire === 2) {
      // A known field of the other wire type is refused, as the reference refuses it.
      if ((field === 1 && wire !== 2) || (field === 2 && wire !== 0)) return null;
      let value = 0;
      let scale = 1;
      // Up to 7 bytes a varint is exact in a number; a length prefix takes at most 5.
      for (let i = 0; ; i++) {
        if (pos >= bytes.length) return null;
        if (i >= (wire === 0 ? 7 : 5)) return wire === 0 ? UNUSUAL_ACK : null;
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
    } else if (field === 1 || field === 2) {
      return null;
    } else if (wire === 5) {
      pos += 4;
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 3 || wire === 4) {
      return UNUSUAL_ACK;
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
  if (fields === UNUSUAL_ACK) return decodeAckExactly(bytes);
  return fields === null ? null : { subject, sequence: fields.sequence };
}

/** The control path's decoder, for the acks scanAck does not read itself. */
function decodeAckExactly(bytes: Uint8Array): Ack | null {
  try {
    return decodeMessage('Ack', bytes);
  } catch (error) {
    if (error instanceof ProtocolMessageInvalidError) return null;
    throw error;
  }
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
  if (fields === UNUSUAL_ACK) return slowAckedSequence(bytes, channel);
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
