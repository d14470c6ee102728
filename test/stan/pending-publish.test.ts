// Proves that publishes copied into shared arenas keep their own bytes: every pending publish
// gives back its data and the PubAck for its guid (ASCII or not) after many others filled and
// replaced the arena, a message bigger than half an arena gets an allocation of its own, and
// the NATS buffer the PubMsg came in may be overwritten at once.
import { describe, expect, it } from 'vitest';
import { PublishArena } from '../../src/server/pending-publish.js';
import { PubMsgDecoder, guidOfPubAck, successPubAck } from '../../src/server/pub-decoder.js';
import { ProtobufjsProtocol } from '../support/protobufjs-protocol.js';

const reference = new ProtobufjsProtocol();

describe('PublishArena', () => {
  it('keeps each publish its data and PubAck across arenas', () => {
    const arena = new PublishArena();
    const decoder = new PubMsgDecoder();
    const sizes = [0, 1, 100, 5_000, 40_000, 100_000, 128, 65_536];
    const kept = [];
    for (let i = 0; i < 600; i++) {
      const size = sizes[i % sizes.length]!;
      const guid = i % 7 === 0 ? `gü-${i}` : `guid-${i}`;
      const data = Buffer.alloc(size, i % 256);
      const bytes = Buffer.from(reference.encode('PubMsg', { clientID: 'c', guid, subject: 's', data, connID: new Uint8Array([1]) }));
      const fields = decoder.decode(bytes)!;
      const expectedAck = successPubAck(fields);
      const pending = arena.take(fields, i % 5 === 0 ? '' : '_STAN.acks.x');
      bytes.fill(0xee);
      kept.push({ pending, size, fill: i % 256, guid, expectedAck, wantsAck: i % 5 !== 0 });
    }
    for (const { pending, size, fill, guid, expectedAck, wantsAck } of kept) {
      expect(pending.dataLength).toBe(size);
      expect(pending.data.equals(Buffer.alloc(size, fill))).toBe(true);
      if (wantsAck) {
        expect(pending.pubAck().equals(expectedAck)).toBe(true);
        expect(guidOfPubAck(pending.pubAck())).toBe(guid);
      } else {
        expect(pending.ackLength).toBe(0);
      }
    }
  });
});
