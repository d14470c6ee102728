// Proves the hand-written spb/MsgProto codecs: golden bytes written by hand from the field numbers
// of docs/protocol.md §2, exact int64 timestamps, round trips and a protobufjs cross-check (fast-check),
// and clear RECORD_INVALID errors (never a crash) on malformed input.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import {
  decodeClientDelete,
  decodeClientInfo,
  decodeCtrlMsg,
  decodeMsgProto,
  decodeServerInfo,
  decodeSubState,
  decodeSubStateDelete,
  decodeSubStateUpdate,
  emptyMsgProto,
  encodeClientDelete,
  encodeClientInfo,
  encodeCtrlMsg,
  encodeMsgProto,
  encodeServerInfo,
  encodeSubState,
  encodeSubStateDelete,
  encodeSubStateUpdate,
  msgProtoDataRange,
  msgProtoSize,
  withMsgProtoData,
  type MsgProto,
  type SubState,
} from '../../../src/store/records.js';

const protoPath = fileURLToPath(new URL('../../../proto/spb.proto', import.meta.url));
const root = protobuf.loadSync(protoPath);

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('MsgProto golden bytes', () => {
  it('encodes every field with the reference numbers', () => {
    const msg: MsgProto = {
      sequence: 300,
      subject: 'foo',
      reply: 'r',
      data: new Uint8Array([1, 2]),
      timestamp: 1_700_000_000_123_456_789n,
      redelivered: true,
      redeliveryCount: 2,
      crc32: 5,
    };
    // 1:varint 300 = ac 02 | 2:"foo" | 3:"r" | 4:0102 | 5:varint ts | 6:1 | 7:2 | 10:5 (tag 0x50)
    // 1700000000123456789 in 7-bit groups, low first (computed independently of the codec)
    const ts = '95 9a 97 ec e3 9f e7 cb 17'.replaceAll(' ', '');
    const expected = `08ac02` + `1203666f6f` + `1a0172` + `22020102` + `28${ts}` + `3001` + `3802` + `5005`;
    expect(hex(encodeMsgProto(msg))).toBe(expected);
    expect(decodeMsgProto(Buffer.from(expected, 'hex'))).toEqual(msg);
    expect(msgProtoSize(msg)).toBe(expected.length / 2);
  });

  it('omits proto3 zero values, so an empty message is zero bytes', () => {
    expect(encodeMsgProto(emptyMsgProto()).length).toBe(0);
    expect(decodeMsgProto(new Uint8Array(0))).toEqual(emptyMsgProto());
  });

  it('keeps timestamps exact beyond 2^53 and encodes negatives in 10 bytes', () => {
    const msg = { ...emptyMsgProto(), timestamp: 9_007_199_254_740_993n };
    expect(decodeMsgProto(encodeMsgProto(msg)).timestamp).toBe(9_007_199_254_740_993n);
    const negative = { ...emptyMsgProto(), timestamp: -1n };
    expect(hex(encodeMsgProto(negative))).toBe('28ffffffffffffffffff01');
    expect(decodeMsgProto(encodeMsgProto(negative)).timestamp).toBe(-1n);
    const min = { ...emptyMsgProto(), timestamp: -(2n ** 63n) };
    expect(decodeMsgProto(encodeMsgProto(min)).timestamp).toBe(-(2n ** 63n));
  });

  it('measures the size exactly at every varint length boundary of the timestamp', () => {
    for (let k = 1n; k <= 9n; k++) {
      for (const ts of [2n ** (7n * k) - 1n, 2n ** (7n * k), -(2n ** (7n * k))]) {
        if (ts > 2n ** 63n - 1n) continue;
        const msg = { ...emptyMsgProto(), timestamp: ts };
        expect(msgProtoSize(msg)).toBe(encodeMsgProto(msg).length);
      }
    }
  });

  it('copies data by default and gives a view into the input on request', () => {
    const bytes = encodeMsgProto({ ...emptyMsgProto(), data: new Uint8Array([1, 2, 3]) });
    const copied = decodeMsgProto(bytes);
    const viewed = decodeMsgProto(bytes, false);
    bytes[bytes.length - 1] = 9;
    expect([...copied.data]).toEqual([1, 2, 3]);
    expect([...viewed.data]).toEqual([1, 2, 9]);
  });

  it('skips unknown fields of every wire type', () => {
    // field 15 varint, field 16 fixed64, field 17 bytes, field 18 fixed32, then sequence 7
    const bytes = Buffer.from('7801' + '8101' + '0102030405060708' + '8a0102aabb' + '950101020304' + '0807', 'hex');
    expect(decodeMsgProto(bytes).sequence).toBe(7);
  });
});

describe('spb records golden bytes', () => {
  it('SubState', () => {
    const sub: SubState = {
      id: 1, clientId: 'c', qGroup: 'd:q', inbox: 'i', ackInbox: 'a', maxInFlight: 1024,
      ackWaitInSecs: -1, durableName: 'n', lastSent: 2 ** 40, isDurable: true, isClosed: true,
    };
    const expected =
      '0801' + '120163' + '1a03643a71' + '220169' + '2a0161' + '308008' +
      '38ffffffffffffffffff01' + '42016e' + '488080808080' + '20' + '5001' + '5801';
    expect(hex(encodeSubState(sub))).toBe(expected);
    expect(decodeSubState(Buffer.from(expected, 'hex'))).toEqual(sub);
  });

  it('SubStateUpdate, SubStateDelete, ClientDelete', () => {
    expect(hex(encodeSubStateUpdate({ id: 3, seqno: 128 }))).toBe('08031080' + '01');
    expect(decodeSubStateUpdate(Buffer.from('0803108001', 'hex'))).toEqual({ id: 3, seqno: 128 });
    expect(hex(encodeSubStateDelete({ id: 9 }))).toBe('0809');
    expect(decodeSubStateDelete(Buffer.from('0809', 'hex'))).toEqual({ id: 9 });
    expect(hex(encodeClientDelete({ id: 'me' }))).toBe('0a026d65');
    expect(decodeClientDelete(Buffer.from('0a026d65', 'hex'))).toEqual({ id: 'me' });
  });

  it('ServerInfo and ClientInfo', () => {
    const info = {
      clusterId: 'a', discovery: 'b', publish: 'c', subscribe: 'd', unsubscribe: 'e', close: 'f',
      subClose: 'g', acksSubs: 'h', nodeId: 'i',
    };
    const expected = ['0a', '12', '1a', '22', '2a', '32', '3a', '42', '4a']
      .map((tag, i) => `${tag}01${(0x61 + i).toString(16)}`)
      .join('');
    expect(hex(encodeServerInfo(info))).toBe(expected);
    expect(decodeServerInfo(Buffer.from(expected, 'hex'))).toEqual(info);
    const client = { id: 'x', hbInbox: 'y', connId: new Uint8Array([7]), protocol: 1, pingInterval: 5, pingMaxOut: 88 };
    const clientHex = '0a0178' + '120179' + '1a0107' + '2001' + '2805' + '3058';
    expect(hex(encodeClientInfo(client))).toBe(clientHex);
    expect(decodeClientInfo(Buffer.from(clientHex, 'hex'))).toEqual(client);
  });

  it('CtrlMsg', () => {
    const ctrl = { msgType: 3, serverId: 's', data: new Uint8Array([1]), refId: '' };
    expect(hex(encodeCtrlMsg(ctrl))).toBe('0803' + '120173' + '1a0101');
    expect(decodeCtrlMsg(Buffer.from('0803120173' + '1a0101', 'hex'))).toEqual(ctrl);
  });
});

describe('bad input', () => {
  const cases: Array<[string, string]> = [
    ['truncated varint', '08ff'],
    ['length beyond end', '1205666f'],
    ['wrong wire type', '0a0161'],
    ['field number 0', '0001'],
    ['group wire type', '0b'],
    ['varint over 10 bytes', '08ffffffffffffffffffff01'],
    ['sequence over 2^53', '08ffffffffffffffff7f'],
  ];
  for (const [what, bytes] of cases) {
    it(`rejects ${what} with RECORD_INVALID`, () => {
      expect(() => decodeMsgProto(Buffer.from(bytes, 'hex'))).toThrow(expect.objectContaining({ code: 'RECORD_INVALID' }));
    });
  }

  it('rejects out-of-range values when encoding', () => {
    expect(() => encodeMsgProto({ ...emptyMsgProto(), sequence: -1 })).toThrow(expect.objectContaining({ code: 'RECORD_INVALID' }));
    expect(() => encodeMsgProto({ ...emptyMsgProto(), timestamp: 2n ** 64n })).toThrow(expect.objectContaining({ code: 'RECORD_INVALID' }));
    expect(() => encodeSubState({ ...decodeSubState(new Uint8Array(0)), maxInFlight: 2 ** 31 })).toThrow(
      expect.objectContaining({ code: 'RECORD_INVALID' }),
    );
  });

  it('random bytes either decode or throw RECORD_INVALID, never anything else', () => {
    const decoders = [decodeMsgProto, decodeSubState, decodeClientInfo, decodeServerInfo, decodeCtrlMsg, decodeSubStateUpdate];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const decode of decoders) {
          try {
            decode(bytes);
          } catch (err) {
            expect((err as { code?: string }).code).toBe('RECORD_INVALID');
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

const arbMsg = fc.record({
  sequence: fc.maxSafeNat(),
  subject: fc.string(),
  reply: fc.string(),
  data: fc.uint8Array({ maxLength: 100 }),
  timestamp: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  redelivered: fc.boolean(),
  redeliveryCount: fc.nat({ max: 0xffffffff }),
  crc32: fc.nat({ max: 0xffffffff }),
});

const arbSub = fc.record({
  id: fc.maxSafeNat(), clientId: fc.string(), qGroup: fc.string(), inbox: fc.string(), ackInbox: fc.string(),
  maxInFlight: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  ackWaitInSecs: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  durableName: fc.string(), lastSent: fc.maxSafeNat(), isDurable: fc.boolean(), isClosed: fc.boolean(),
});

describe('properties', () => {
  it('MsgProto round-trips and agrees with protobufjs', () => {
    const check = root.lookupType('pb.MsgProto');
    fc.assert(
      fc.property(arbMsg, (msg) => {
        const bytes = encodeMsgProto(msg);
        expect(bytes.length).toBe(msgProtoSize(msg));
        expect(decodeMsgProto(bytes)).toEqual(msg);
        const oracle = check.toObject(check.decode(bytes), { longs: String, bytes: Array, defaults: true });
        expect(BigInt(oracle['timestamp'] as string)).toBe(msg.timestamp);
        expect(Number(oracle['sequence'])).toBe(msg.sequence);
        expect(oracle['subject']).toBe(msg.subject);
        expect(Uint8Array.from(oracle['data'] as number[])).toEqual(msg.data);
        expect(oracle['redeliveryCount']).toBe(msg.redeliveryCount);
        expect(oracle['CRC32']).toBe(msg.crc32);
        // and protobufjs's own encoding decodes to the same message
        expect(decodeMsgProto(check.encode(check.decode(bytes)).finish())).toEqual(msg);
      }),
      { numRuns: 500 },
    );
  });

  it('replacing the data field of encoded MsgProto bytes gives the encoding of the message with that data', () => {
    fc.assert(
      fc.property(arbMsg, fc.uint8Array({ maxLength: 300 }), (msg, data) => {
        const bytes = encodeMsgProto(msg);
        const range = msgProtoDataRange(bytes);
        if (msg.data.length === 0) {
          expect(range).toBeUndefined();
          return;
        }
        expect(Buffer.from(bytes.subarray(range!.start, range!.end))).toEqual(Buffer.from(msg.data));
        const replaced = withMsgProtoData(bytes, range!, data);
        expect(decodeMsgProto(replaced)).toEqual({ ...msg, data });
        if (data.length !== 0) expect(replaced).toEqual(encodeMsgProto({ ...msg, data }));
      }),
      { numRuns: 500 },
    );
    // bytes it cannot walk: no range, never an exception
    for (const bad of [[0x22, 0x05, 1], [0x22], [0x0a, 0x80], [0x0b, 0, 0x22, 0]]) expect(msgProtoDataRange(Uint8Array.from(bad))).toBeUndefined();
  });

  it('SubState round-trips and agrees with protobufjs', () => {
    const type = root.lookupType('spb.SubState');
    fc.assert(
      fc.property(arbSub, (sub) => {
        const bytes = encodeSubState(sub);
        expect(decodeSubState(bytes)).toEqual(sub);
        const oracle = type.toObject(type.decode(bytes), { longs: String, defaults: true });
        expect(Number(oracle['ID'])).toBe(sub.id);
        expect(Number(oracle['lastSent'])).toBe(sub.lastSent);
        expect(oracle['ackWaitInSecs']).toBe(sub.ackWaitInSecs);
        expect(oracle['qGroup']).toBe(sub.qGroup);
        expect(oracle['isClosed']).toBe(sub.isClosed);
        expect(decodeSubState(type.encode(type.decode(bytes)).finish())).toEqual(sub);
      }),
      { numRuns: 300 },
    );
  });

  it('ClientInfo round-trips', () => {
    fc.assert(
      fc.property(
        fc.record({
          id: fc.string(), hbInbox: fc.string(), connId: fc.uint8Array({ maxLength: 24 }),
          protocol: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          pingInterval: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          pingMaxOut: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        }),
        (client) => {
          expect(decodeClientInfo(encodeClientInfo(client))).toEqual(client);
        },
      ),
    );
  });
});
