// Proves the hand-written hot-path codecs (PubMsg and Ack decoders, PubAck encoder) agree with
// protobufjs on proto/protocol.proto for arbitrary field values, and reject truncated input.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeAck, decodePubMsgView, encodePubAckFast } from '../../src/server/protocol.js';
import { ProtobufjsProtocol } from '../support/protobufjs-protocol.js';

const reference = new ProtobufjsProtocol();
const text = fc.string({ maxLength: 40, unit: 'grapheme' });

describe('hot-path codecs', () => {
  it('decodePubMsgView reads what protobufjs writes', () => {
    fc.assert(fc.property(text, text, text, text, fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 30 }), fc.uint8Array({ maxLength: 40 }),
      (clientID, guid, subject, reply, data, connID, sha256) => {
        const bytes = reference.encode('PubMsg', { clientID, guid, subject, reply, data, connID, sha256 });
        const view = decodePubMsgView(bytes);
        expect(view).not.toBeNull();
        expect(view).toMatchObject({ clientID, guid, subject, reply, connId: Buffer.from(connID).toString('latin1') });
        expect(Buffer.from(view!.data)).toEqual(Buffer.from(data));
      }));
  });

  it('decodePubMsgView rejects every strict truncation of a message ending in a length-delimited field', () => {
    const bytes = reference.encode('PubMsg', { clientID: 'c', guid: 'g', subject: 's', data: Buffer.from('payload'), connID: Buffer.from('conn') });
    for (let cut = 1; cut < bytes.length; cut++) {
      const view = decodePubMsgView(bytes.subarray(0, cut));
      // A cut exactly between two fields is a valid, shorter message.
      if (view !== null) expect(reference.decode('PubMsg', bytes.subarray(0, cut))).toBeDefined();
    }
    expect(decodePubMsgView(bytes.subarray(0, bytes.length - 1))).toBeNull();
  });

  it('encodePubAckFast writes what protobufjs reads', () => {
    fc.assert(fc.property(text, text, (guid, error) => {
      const decoded = reference.decode('PubAck', encodePubAckFast(guid, error));
      expect(decoded).toEqual({ guid, error });
    }));
  });

  it('decodeAck reads what protobufjs writes, up to 2^53', () => {
    fc.assert(fc.property(text, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (subject, sequence) => {
      const bytes = reference.encode('Ack', { subject, sequence });
      expect(decodeAck(bytes)).toEqual({ subject, sequence });
    }));
  });
});
