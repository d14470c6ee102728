// Proves the MEMORY store's chunked encodings against a plain model (fast-check): batches of all
// sizes (single small messages that share chunks, batches bigger than a chunk), sequence gaps,
// count and byte limits and drops from the front all give the same messages, bytes, first
// sequence and timestamp lookups as an array of MsgProto would; the stored bytes are exactly the
// message's encoding. Many single-message batches share chunks rather than one each.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openMemoryStore } from '../../../src/store/memory/memory-store.js';
import { MsgChunk } from '../../../src/store/memory/msg-chunk.js';
import { defaultStoreLimits } from '../../../src/store/limits.js';
import { emptyMsgProto, encodeMsgProto, msgProtoSize, type MsgProto } from '../../../src/store/records.js';
import type { MsgStore } from '../../../src/store/types.js';
import { silentLogger } from '../../../src/util/logger.js';
import { FakeClock } from '../conformance/harness.js';

async function channel(maxMsgs = 0, maxBytes = 0): Promise<MsgStore> {
  const limits = defaultStoreLimits();
  const store = await openMemoryStore({ limits: { ...limits, global: { ...limits.global, maxMsgs, maxBytes } }, clock: new FakeClock(), logger: silentLogger() });
  await store.init({ clusterId: 'c', discovery: '', publish: '', subscribe: '', unsubscribe: '', close: '', subClose: '', acksSubs: '', nodeId: '' });
  return (await store.createChannel('c')).msgs;
}

function message(sequence: number, size: number, timestamp: bigint): MsgProto {
  return { ...emptyMsgProto(), sequence, subject: 'c', reply: sequence % 3 === 0 ? 'r' : '', data: Buffer.alloc(size, sequence % 251), timestamp };
}

describe('MEMORY store chunks', () => {
  it('agree with a model over random batches, gaps and limits', async () => {
    const batch = fc.record({
      gap: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 5 })),
      sizes: fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 20_000, max: 40_000 })), { minLength: 1, maxLength: 8 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 25 }), fc.nat(40), fc.oneof(fc.constant(0), fc.integer({ min: 50_000, max: 200_000 })), async (batches, maxMsgs, maxBytes) => {
        const msgs = await channel(maxMsgs, maxBytes);
        let model: MsgProto[] = [];
        let last = 0;
        let time = 1_000n;
        for (const { gap, sizes } of batches) {
          const stored = sizes.map((size, i) => message(gap > 0 ? last + gap + i : 0, size, (time += BigInt(i % 2))));
          msgs.storeBatch(stored);
          const copies = stored.map((m) => ({ ...m }));
          model.push(...copies);
          last = copies[copies.length - 1]!.sequence;
          if (maxMsgs > 0 && model.length > maxMsgs) model = model.slice(model.length - maxMsgs);
          let bytes = model.reduce((n, m) => n + msgProtoSize(m), 0);
          while (maxBytes > 0 && bytes > maxBytes && model.length > 1) bytes -= msgProtoSize(model.shift()!);
          expect(msgs.state()).toEqual({ msgs: model.length, bytes });
          expect(msgs.firstSequence()).toBe(model[0]?.sequence ?? last + 1);
          expect(msgs.lastSequence()).toBe(last);
        }
        for (let seq = Math.max(1, (model[0]?.sequence ?? 1) - 3); seq <= last + 1; seq++) {
          const expected = model.find((m) => m.sequence === seq);
          const got = msgs.lookupSync(seq) as MsgProto | undefined;
          if (expected === undefined) {
            expect(got).toBeUndefined();
            expect(msgs.lookupEncodedSync!(seq)).toBeUndefined();
            continue;
          }
          expect({ ...got!, data: undefined }).toEqual({ ...expected, data: undefined });
          expect(Buffer.from(got!.data).equals(expected.data)).toBe(true);
          expect(Buffer.from(msgs.lookupEncodedSync!(seq)!).equals(encodeMsgProto(expected))).toBe(true);
        }
        for (const m of model.slice(0, 5)) {
          const firstAtOrAfter = model.find((x) => x.timestamp >= m.timestamp)!;
          expect(await msgs.sequenceFromTimestamp(m.timestamp)).toBe(firstAtOrAfter.sequence);
        }
        expect(await msgs.sequenceFromTimestamp(time + 1n)).toBe(last + 1);
      }),
      { numRuns: 200 },
    );
  });

  it('single small messages share chunks', () => {
    const chunk = new MsgChunk(1, 600, 2);
    let seq = 1;
    while (chunk.canTake(120)) chunk.append(message(seq++, 100, 1n), encodeMsgProto(message(seq - 1, 100, 1n)).length);
    // About 64 KB of ~115-byte encodings in one chunk.
    expect(chunk.count).toBeGreaterThan(500);
    expect(chunk.used).toBeLessThanOrEqual(64 * 1024);
    expect(Buffer.from(chunk.encoded(0)).equals(encodeMsgProto(message(1, 100, 1n)))).toBe(true);
    expect(Buffer.from(chunk.encoded(chunk.count - 1)).equals(encodeMsgProto(message(chunk.count, 100, 1n)))).toBe(true);
  });
});
