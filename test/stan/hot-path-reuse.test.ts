// Proves the publish and ack fast paths that reuse earlier work agree with the exact decoders: a
// long-lived PubMsgDecoder (strings cached across messages), PubAcks built from guid bytes, and
// acks matched against a channel's name bytes, on arbitrary and on hand-made awkward inputs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ackedSequence, decodeAck, decodePubMsgView } from '../../src/server/protocol.js';
import { PubMsgDecoder, guidOf, guidOfPubAck, successPubAck } from '../../src/server/pub-decoder.js';
import { ProtobufjsProtocol } from '../support/protobufjs-protocol.js';

const reference = new ProtobufjsProtocol();
const text = fc.string({ maxLength: 40, unit: 'grapheme' });
const anyText = fc.string({ maxLength: 12, unit: 'binary' });

describe('hot-path reuse', () => {
  it('a long-lived PubMsgDecoder reads a sequence of messages as fresh decoders do', () => {
    const decoder = new PubMsgDecoder();
    const field = fc.constantFrom('a', 'b', 'chan', 'é', '');
    fc.assert(fc.property(field, text, field, fc.uint8Array({ maxLength: 20 }), fc.constantFrom(new Uint8Array([1, 2]), new Uint8Array([1, 3]), new Uint8Array(0)),
      (clientID, guid, subject, data, connID) => {
        const bytes = reference.encode('PubMsg', { clientID, guid, subject, data, connID });
        const fields = decoder.decode(bytes);
        expect(fields).not.toBeNull();
        const fresh = decodePubMsgView(bytes)!;
        expect({ clientID: fields!.clientID, subject: fields!.subject, connId: fields!.connId, guid: guidOf(fields!) }).toEqual({
          clientID: fresh.clientID, subject: fresh.subject, connId: fresh.connId, guid: fresh.guid,
        });
        if (guid !== '') {
          const ack = successPubAck(fields!);
          expect(reference.decode('PubAck', ack)).toEqual({ guid, error: '' });
          expect(guidOfPubAck(ack)).toBe(guid);
        }
      }), { numRuns: 300 });
  });

  it('ackedSequence agrees with decodeAck and a comparison of the subject', () => {
    fc.assert(fc.property(text, text, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (channel, subject, sequence) => {
      const bytes = reference.encode('Ack', { subject, sequence });
      const expected = subject === channel ? sequence : -1;
      expect(ackedSequence(bytes, Buffer.from(channel), channel)).toBe(expected);
      expect(ackedSequence(bytes, null, channel)).toBe(expected);
    }));
  });

  it('ackedSequence agrees with decodeAck on arbitrary bytes and repeated or invalid subjects', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), fc.constantFrom('a', 'ab', 'é'), (bytes, channel) => {
      const ack = decodeAck(bytes);
      const expected = ack === null || ack.subject !== channel ? -1 : ack.sequence;
      expect(ackedSequence(bytes, Buffer.from(channel), channel)).toBe(expected);
    }));
    const repeated = Buffer.from([0x0a, 1, 0xff, 0x0a, 1, 0x61, 0x10, 5]);
    expect(ackedSequence(repeated, Buffer.from('a'), 'a')).toBe(-1);
    const twice = Buffer.from([0x0a, 1, 0x62, 0x0a, 1, 0x61, 0x10, 5]);
    expect(ackedSequence(twice, Buffer.from('a'), 'a')).toBe(5);
  });

  it('ackedSequence never matches a name that UTF-8 cannot carry', () => {
    fc.assert(fc.property(anyText, (channel) => {
      const bytes = reference.encode('Ack', { subject: channel, sequence: 7 });
      const ack = decodeAck(bytes);
      expect(ackedSequence(bytes, null, channel)).toBe(ack !== null && ack.subject === channel ? 7 : -1);
    }));
  });
});
