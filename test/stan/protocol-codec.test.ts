// Proves the control path's hand-written codec (src/server/protocol-messages.ts) is the codec that
// protobufjs made of proto/protocol.proto, message by message: fast-check (fixed seeds) builds random
// valid messages, odd but legal encodings, random field sequences and mutated encodings. Both
// encoders write the same bytes; on any input the hand decoder accepts what protobufjs accepts with
// the same values, rejects what it rejects, and throws nothing but ProtocolMessageInvalidError. One
// difference is intended: a known field with the wrong wire type is refused, as the reference
// server refuses it, where protobufjs skips it as unknown. The hot path's Ack decoder must give the
// same verdicts and values as the control path's decoder on the same inputs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PROTOCOL_MESSAGES, decodeMessage, encodeMessage, type MessageName } from '../../src/server/protocol-messages.js';
import { ProtocolMessageInvalidError } from '../../src/server/protocol-wire.js';
import { StanCodec, ackedSequence, decodeAck } from '../../src/server/protocol.js';
import { ProtobufjsProtocol } from '../support/protobufjs-protocol.js';

const reference = new ProtobufjsProtocol();
const names = Object.keys(PROTOCOL_MESSAGES) as MessageName[];
const SEED = 0x5eed14;

type FieldType = (typeof PROTOCOL_MESSAGES)[MessageName][number][2];

/** Comparable form: bytes (Buffer or Uint8Array, view or copy) as hex. */
function normalized(message: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(message).map(([key, value]) => [key, value instanceof Uint8Array ? `hex:${Buffer.from(value).toString('hex')}` : value]));
}

type Outcome = { ok: true; message: Record<string, unknown> } | { ok: false; error: unknown };

function outcomeOf(decode: () => Record<string, unknown>): Outcome {
  try {
    return { ok: true, message: normalized(decode()) };
  } catch (error) {
    return { ok: false, error };
  }
}

function wireTypeOf(type: FieldType): number {
  return type === 'string' || type === 'bytes' ? 2 : 0;
}

/** A known field of `name` carries another wire type somewhere at the top level of `bytes`. */
function hasMistypedField(name: MessageName, bytes: Uint8Array): boolean {
  const fields = PROTOCOL_MESSAGES[name] as readonly (readonly [string, number, FieldType])[];
  return reference.fieldsOf(bytes).some(({ field, wireType }) => {
    const spec = fields.find((candidate) => candidate[1] === field);
    return spec !== undefined && wireTypeOf(spec[2]) !== wireType;
  });
}

/** The agreement every input must show, valid or not. */
function expectAgreement(name: MessageName, bytes: Uint8Array): void {
  const theirs = outcomeOf(() => reference.decode(name, Buffer.from(bytes)));
  const ours = outcomeOf(() => decodeMessage(name, bytes));
  if (!ours.ok) expect(ours.error, String(ours.error)).toBeInstanceOf(ProtocolMessageInvalidError);
  if (!theirs.ok) {
    expect(ours.ok, `${name} ${Buffer.from(bytes).toString('hex')}: protobufjs refused (${String(theirs.error)})`).toBe(false);
  } else if (ours.ok) {
    expect(ours.message).toEqual(theirs.message);
  } else {
    expect(hasMistypedField(name, bytes), `${name} ${Buffer.from(bytes).toString('hex')}: we refused (${String(ours.error)})`).toBe(true);
  }
}

/** decodeAck and ackedSequence (the hot path) read every input as the control path's decoder does. */
function expectAckAgreement(bytes: Uint8Array): void {
  const exact = outcomeOf(() => decodeMessage('Ack', bytes));
  const ack = decodeAck(bytes);
  expect(ack === null ? null : normalized(ack), Buffer.from(bytes).toString('hex')).toEqual(exact.ok ? exact.message : null);
  if (!exact.ok) {
    expect(ackedSequence(bytes, Buffer.from('a'), 'a')).toBe(-1);
    return;
  }
  const channel = String(exact.message['subject']);
  expect(ackedSequence(bytes, Buffer.from(channel), channel)).toBe(exact.message['sequence']);
  expect(ackedSequence(bytes, Buffer.from(`${channel}x`), `${channel}x`)).toBe(-1);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const text = fc.oneof(fc.string({ maxLength: 20, unit: 'binary' }), fc.string({ maxLength: 70, unit: 'grapheme' }), fc.constantFrom('', '\uFEFFbom', 'é'));

function valueOf(type: FieldType): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
      return text;
    case 'bytes':
      return fc.uint8Array({ maxLength: 40 });
    case 'bool':
      return fc.boolean();
    case 'int32':
    case 'enum':
      return fc.oneof(fc.constant(0), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -3, max: 300 }));
    case 'uint32':
      return fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 32 - 1 }));
    case 'uint64':
      return fc.oneof(fc.constant(0), fc.maxSafeNat());
    case 'int64':
      return fc.oneof(fc.constant(0), fc.maxSafeInteger());
  }
}

/** A valid message of `name` with any subset of its fields. */
function messageOf(name: MessageName): fc.Arbitrary<Record<string, unknown>> {
  const shape = Object.fromEntries(PROTOCOL_MESSAGES[name].map(([key, , type]) => [key, valueOf(type)]));
  return fc.record(shape, { requiredKeys: [] });
}

const anyMessage = fc.constantFrom(...names).chain((name) => messageOf(name).map((message) => ({ name, message })));

/** `value` as a varint of at least `bytesMin` bytes (a padded varint is still a legal encoding). */
function varint(value: bigint, bytesMin = 1): number[] {
  const out: number[] = [];
  do {
    out.push(Number(value & 0x7fn));
    value >>= 7n;
  } while (value > 0n || out.length < bytesMin);
  return out.map((b, i) => (i < out.length - 1 ? b | 0x80 : b));
}

/** Any run of 1-12 varint bytes: over-long ones and 10th bytes above 1 included. */
const rawVarint = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 127 })), { minLength: 1, maxLength: 12 }).map((groups) => groups.map((b, i) => (i < groups.length - 1 ? b | 0x80 : b)));
const fieldNumber = fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(0, 100, 2 ** 29 - 1), fc.integer({ min: 13, max: 2 ** 29 - 1 }));
const content = fc.oneof(
  text.map((value) => [...Buffer.from(value)]),
  fc.uint8Array({ maxLength: 12 }).map((bytes) => [...bytes]),
  fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xef, 0xbb, 0xbf]),
);

function tagOf(field: number, wireType: number, pad: number): number[] {
  return varint(BigInt(field * 8 + wireType), pad);
}

function bodyOf(wireType: number, field: number, depth: number): fc.Arbitrary<number[]> {
  switch (wireType) {
    case 0:
      return fc.oneof(rawVarint, fc.tuple(fc.bigInt(0n, 2n ** 64n - 1n), fc.integer({ min: 1, max: 11 })).map(([value, pad]) => varint(value, pad)));
    case 1:
      return fc.uint8Array({ minLength: 8, maxLength: 8 }).map((bytes) => [...bytes]);
    case 2:
      return fc.tuple(content, fc.integer({ min: 1, max: 7 }), fc.integer({ min: -1, max: 1 })).map(([bytes, pad, skew]) => [...varint(BigInt(Math.max(0, bytes.length + skew)), pad), ...bytes]);
    case 3:
      if (depth >= 2) return fc.constant(tagOf(field, 4, 1));
      return fc.tuple(fc.array(pieceOf(depth + 1), { maxLength: 3 }), fc.boolean()).map(([inner, matching]) => [...inner.flat(), ...tagOf(matching ? field : field + 1, 4, 1)]);
    case 5:
      return fc.uint8Array({ minLength: 4, maxLength: 4 }).map((bytes) => [...bytes]);
    default:
      return fc.constant([]);
  }
}

function pieceOf(depth: number): fc.Arbitrary<number[]> {
  return fc.tuple(fieldNumber, fc.integer({ min: 0, max: 7 }), fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 6 })))
    .chain(([field, wireType, pad]) => bodyOf(wireType, field, depth).map((body) => [...tagOf(field, wireType, pad), ...body]));
}

/** Field after field, each of any wire type and shape, maybe cut short. */
const fieldSequence = fc.tuple(fc.array(pieceOf(0), { maxLength: 6 }), fc.option(fc.nat())).map(([pieces, cut]) => {
  const bytes = pieces.flat();
  return Uint8Array.from(cut === null ? bytes : bytes.slice(0, cut % (bytes.length + 1)));
});

/** A valid encoding with bytes replaced, inserted or deleted, maybe cut short. */
const mutated = fc.tuple(anyMessage, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { maxLength: 4 }), fc.option(fc.nat()))
  .map(([{ name, message }, edits, cut]) => {
    const bytes = [...reference.encode(name, message)];
    for (const [at, value, edit] of edits) {
      const index = bytes.length === 0 ? 0 : at % bytes.length;
      if (edit === 'set' && bytes.length > 0) bytes[index] = value;
      else if (edit === 'insert') bytes.splice(index, 0, value);
      else bytes.splice(index, 1);
    }
    return Uint8Array.from(cut === null ? bytes : bytes.slice(0, cut % (bytes.length + 1)));
  });

/** Two valid encodings of one message back to back: protobuf's merge, where the last value wins. */
const concatenated = fc.constantFrom(...names)
  .chain((name) => fc.tuple(messageOf(name), messageOf(name)).map(([first, second]) => Buffer.concat([reference.encode(name, first), reference.encode(name, second)])));

const anyInput = fc.oneof(fc.uint8Array({ maxLength: 48 }), fieldSequence, mutated, concatenated);

// ---------------------------------------------------------------------------------------------

describe('the protocol codec against protobufjs', () => {
  it('writes the bytes protobufjs writes, and each reads the other', () => {
    fc.assert(fc.property(anyMessage, ({ name, message }) => {
      const ours = encodeMessage(name, message);
      const theirs = reference.encode(name, message);
      expect(Buffer.from(ours).toString('hex')).toBe(theirs.toString('hex'));
      expect(normalized(decodeMessage(name, theirs))).toEqual(normalized(reference.decode(name, ours)));
      // ...and the round trip gives back every field given, zero for the others.
      const zeros = normalized(reference.decode(name, new Uint8Array(0)));
      expect(normalized(decodeMessage(name, ours))).toEqual({ ...zeros, ...normalized(message) });
    }), { seed: SEED, numRuns: 3000 });
  });

  it('reads 64-bit integers beyond 2^53 as protobufjs does (rounded numbers)', () => {
    const u64 = fc.bigInt(0n, 2n ** 64n - 1n);
    const i64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
    fc.assert(fc.property(u64, i64, u64, i64, (startSequence, startTimeDelta, sequence, timestamp) => {
      const request = reference.encode('SubscriptionRequest', { startSequence: String(startSequence), startTimeDelta: String(startTimeDelta) });
      expect(normalized(decodeMessage('SubscriptionRequest', request))).toEqual(reference.decode('SubscriptionRequest', request));
      const msg = reference.encode('MsgProto', { sequence: String(sequence), timestamp: String(timestamp) });
      expect(normalized(decodeMessage('MsgProto', msg))).toEqual(normalized(reference.decode('MsgProto', msg)));
    }), { seed: SEED, numRuns: 2000 });
  });

  it('agrees with protobufjs on random bytes, odd field sequences and mutated encodings', () => {
    fc.assert(fc.property(anyInput, (bytes) => {
      for (const name of names) expectAgreement(name, bytes);
      expectAckAgreement(bytes);
    }), { seed: SEED, numRuns: 4000 });
  });

  it('agrees on every truncation of every message with all fields set', () => {
    fc.assert(fc.property(anyMessage, ({ name, message }) => {
      const bytes = reference.encode(name, message);
      for (let cut = 0; cut <= bytes.length; cut++) {
        expectAgreement(name, bytes.subarray(0, cut));
        expectAckAgreement(bytes.subarray(0, cut));
      }
    }), { seed: SEED, numRuns: 300 });
  });
});

describe('the protocol codec, by example', () => {
  const codec = new StanCodec();
  const codeOf = (decode: () => unknown): string | undefined => {
    try {
      decode();
      return undefined;
    } catch (error) {
      return (error as { code?: string }).code;
    }
  };

  it('writes a negative int32 as ten bytes and reads it back', () => {
    const bytes = codec.encode('SubscriptionRequest', { maxInFlight: -1 });
    expect(Buffer.from(bytes).toString('hex')).toBe('28ffffffffffffffffff01');
    expect(codec.decodeSubscriptionRequest(bytes).maxInFlight).toBe(-1);
  });

  it('answers a subscription with field 2 (ack inbox) or field 3 (error), never field 1', () => {
    expect(Buffer.from(codec.encodeSubscriptionResponse('_INBOX.a', '')).toString('hex')).toBe(`1208${Buffer.from('_INBOX.a').toString('hex')}`);
    expect(Buffer.from(codec.encodeSubscriptionResponse('_INBOX.a', 'stan: unknown clientID')).subarray(0, 1)[0]).toBe(0x1a);
    expect(codec.decodeResponse('SubscriptionResponse', codec.encodeSubscriptionResponse('', 'x'))).toEqual({ ackInbox: '', error: 'x' });
  });

  it('omits zero values and writes publicKey as field 100', () => {
    expect(codec.encodeCloseResponse('')).toHaveLength(0);
    expect(codec.encodePingResponse('')).toHaveLength(0);
    expect(codec.encode('ConnectResponse', { protocol: 0, error: '', pingInterval: 0 })).toHaveLength(0);
    expect(Buffer.from(codec.encode('ConnectResponse', { publicKey: 'k' })).toString('hex')).toBe('a206016b');
  });

  it('skips unknown fields of every wire type, groups included', () => {
    const bytes = Uint8Array.from([
      ...tagOf(1, 2, 1), 1, 0x61, // clientID "a"
      ...tagOf(15, 0, 1), 1,
      ...tagOf(16, 1, 1), ...new Array<number>(8).fill(0),
      ...tagOf(17, 2, 1), 0,
      ...tagOf(18, 3, 1), ...tagOf(19, 5, 1), 0, 0, 0, 0, ...tagOf(18, 4, 1),
      ...tagOf(20, 5, 1), 0, 0, 0, 0,
    ]);
    expect(codec.decodeCloseRequest(bytes)).toEqual({ clientID: 'a' });
    expectAgreement('CloseRequest', bytes);
  });

  it('refuses a known field with the wrong wire type, which protobufjs would skip', () => {
    const bytes = Buffer.from('0801', 'hex'); // CloseRequest.clientID as a varint
    expect(reference.decode('CloseRequest', bytes)).toEqual({ clientID: '' });
    expect(codeOf(() => codec.decodeCloseRequest(bytes))).toBe('STAN_MESSAGE_INVALID');
  });

  it('refuses truncation, invalid UTF-8, field number 0 and groups nested past 100, as protobufjs does', () => {
    // Unknown field 15 as groups inside groups: start tag 0x7b, end tag 0x7c.
    const group = (depth: number): Buffer => Buffer.from('7b'.repeat(depth) + '7c'.repeat(depth), 'hex');
    for (const [hex, refused] of [
      ['0a02', true], ['0a0161', false], ['18', true], ['0a01ff', true], ['0a03efbbbf', false], ['0001', true],
      ['0a80808080808000', true], ['28ffffffffffffffffff7f', false], [group(101).toString('hex'), false], [group(102).toString('hex'), true],
    ] as const) {
      const bytes = Buffer.from(hex, 'hex');
      expect(codeOf(() => codec.decodeConnectRequest(bytes)), hex).toBe(refused ? 'STAN_MESSAGE_INVALID' : undefined);
      expectAgreement('ConnectRequest', bytes);
    }
    expect(codec.decodeConnectRequest(Buffer.from('0a03efbbbf', 'hex')).clientID).toBe('\uFEFF');
  });

  it('reads a bool as true when any bit of its varint is set, even past the 64th', () => {
    const bytes = Buffer.from('30' + '80'.repeat(9) + '02', 'hex'); // MsgProto.redelivered
    expect(codec.decodeResponse('MsgProto', bytes).redelivered).toBe(true);
    expectAgreement('MsgProto', bytes);
  });

  it('reads a uint64 beyond 2^53 as the nearest number, as protobufjs did', () => {
    const bytes = Buffer.from('58' + 'ff'.repeat(9) + '01', 'hex');
    expect(codec.decodeSubscriptionRequest(bytes).startSequence).toBe(2 ** 64);
  });

  it('returns bytes fields as copies that outlive the input', () => {
    const bytes = Buffer.from(codec.encode('Ping', { connID: Buffer.from('conn') }));
    const { connID } = codec.decodePing(bytes);
    bytes.fill(0);
    expect(Buffer.from(connID).toString()).toBe('conn');
  });

  it('refuses to encode numbers its field cannot carry', () => {
    expect(codeOf(() => codec.encode('ConnectRequest', { protocol: 2 ** 31 }))).toBe('STAN_MESSAGE_INVALID');
    expect(codeOf(() => codec.encode('ConnectRequest', { pingInterval: 1.5 }))).toBe('STAN_MESSAGE_INVALID');
    expect(codeOf(() => codec.encode('MsgProto', { sequence: -1 }))).toBe('STAN_MESSAGE_INVALID');
    expect(codeOf(() => codec.encode('SubscriptionRequest', { startSequence: 2 ** 53 }))).toBe('STAN_MESSAGE_INVALID');
  });
});
