// Proves the Raft transport's wire format on its own: every message of the union survives
// encode/decode unchanged; decoding is total (random bytes, mutated encodings and arbitrary
// msgpack values give a reason, never an exception or a message of the wrong shape); frames never
// exceed their bound and give back every message in order, fragments included; reassembly is
// bounded in bytes, partial count and time, and refuses inconsistent or overlapping fragments.
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import type { Message } from '../../src/raft/messages.js';
import type { Entry } from '../../src/raft/types.js';
import { MessageCodec } from '../../src/transport/raft/message-codec.js';
import { FrameKind, packFrames, readFrame, type FragmentFrame } from '../../src/transport/raft/frames.js';
import { Reassembly } from '../../src/transport/raft/reassembly.js';

const counter = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const small = fc.nat({ max: 1000 });
const bytes = fc.uint8Array({ maxLength: 64 });
const nodeId = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/).filter((id) => id !== 'join' && id !== 'bootstrap');

function entriesAfter(prevIndex: number): fc.Arbitrary<Entry[]> {
  return fc
    .array(fc.record({ term: small, type: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>, data: bytes }), { maxLength: 5 })
    .map((list) => list.map((entry, i) => ({ ...entry, index: prevIndex + 1 + i })));
}

const envelope = { from: 'a', to: 'b' } as const;
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('preVote' as const), term: counter, lastIndex: counter, lastTerm: counter }),
  fc.record({ type: fc.constant('preVoteResponse' as const), term: counter, reject: fc.boolean() }),
  fc.record({ type: fc.constant('vote' as const), term: counter, lastIndex: counter, lastTerm: counter, transfer: fc.boolean() }),
  fc.record({ type: fc.constant('voteResponse' as const), term: counter, reject: fc.boolean() }),
  fc
    .record({ type: fc.constant('append' as const), term: counter, prevIndex: small, prevTerm: counter, commit: counter })
    .chain((m) => entriesAfter(m.prevIndex).map((entries) => ({ ...m, entries }))),
  fc.record({
    type: fc.constant('appendResponse' as const),
    term: counter,
    index: counter,
    reject: fc.boolean(),
    hintIndex: counter,
    hintTerm: counter,
  }),
  fc.record({ type: fc.constant('heartbeat' as const), term: counter, commit: counter }),
  fc.record({ type: fc.constant('heartbeatResponse' as const), term: counter }),
  fc.record({
    type: fc.constant('installSnapshot' as const),
    term: counter,
    meta: fc.record({
      index: counter,
      term: counter,
      config: fc.record({ voters: fc.array(nodeId, { maxLength: 5 }), nonVoters: fc.array(nodeId, { maxLength: 3 }) }),
    }),
    offset: counter,
    totalBytes: counter,
    data: bytes,
    done: fc.boolean(),
  }),
  fc.record({ type: fc.constant('installSnapshotResponse' as const), term: counter, snapshotIndex: counter, nextOffset: counter }),
  fc.record({ type: fc.constant('timeoutNow' as const), term: counter }),
).map((m) => ({ ...envelope, ...m }) as Message);

/** Byte fields as plain Uint8Array, so that a decoded Buffer compares equal to what was encoded. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item)]));
  }
  return value;
}

const messageTypes = new Set([
  'preVote', 'preVoteResponse', 'vote', 'voteResponse', 'append', 'appendResponse',
  'heartbeat', 'heartbeatResponse', 'installSnapshot', 'installSnapshotResponse', 'timeoutNow',
]);

/** A decode result is a reason or a message of the union's shape (spot checks of every kind). */
function expectTotal(result: Message | string): void {
  if (typeof result === 'string') return;
  expect(messageTypes.has(result.type)).toBe(true);
  expect(Number.isSafeInteger(result.term) && result.term >= 0).toBe(true);
  if (result.type === 'append') {
    for (const entry of result.entries) {
      expect(entry.data).toBeInstanceOf(Uint8Array);
      expect(Number.isSafeInteger(entry.index)).toBe(true);
    }
  }
}

describe('message codec', () => {
  const codec = new MessageCodec();

  it('round-trips every message of the union', () => {
    fc.assert(
      fc.property(message, (m) => {
        const decoded = codec.decode(codec.encode(m), 'a', 'b');
        expect(plain(decoded)).toEqual(plain(m));
      }),
      { numRuns: 2000 },
    );
  });

  it('copies decoded bytes out of the payload, which the connection may reuse', () => {
    const m: Message = { ...envelope, type: 'append', term: 2, prevIndex: 0, prevTerm: 0, commit: 0, entries: [{ index: 1, term: 2, type: 0, data: new Uint8Array([7, 7, 7]) }] };
    const encoded = Buffer.from(codec.encode(m));
    const decoded = codec.decode(encoded, 'a', 'b') as Extract<Message, { type: 'append' }>;
    encoded.fill(0);
    expect(Array.from(decoded.entries[0]!.data)).toEqual([7, 7, 7]);
  });

  it('gives a reason, never an exception, for random bytes and mutated encodings', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (random) => expectTotal(codec.decode(random, 'a', 'b'))), { numRuns: 3000 });
    fc.assert(
      fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, at, value) => {
        const encoded = Buffer.from(codec.encode(m));
        encoded[at % encoded.length] = value;
        expectTotal(codec.decode(encoded, 'a', 'b'));
        expectTotal(codec.decode(encoded.subarray(0, at % encoded.length), 'a', 'b'));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses wrong shapes: unknown types, negative, fractional, huge or mistyped fields', () => {
    const refused = [
      [],
      [99, 1],
      [-1, 1],
      [7],
      [7, 1, 2],
      [7, -1],
      [7, 1.5],
      [7, 2 ** 60],
      [7, BigInt(2) ** BigInt(60)],
      [7, '1'],
      [1, 1, 0],
      [4, 1, 0, 0, 0, [1, 0]],
      [4, 1, 0, 0, 0, [1, 3, new Uint8Array(1)]],
      [4, 1, 0, 0, 0, [1, 0, 'data']],
      [4, 1, Number.MAX_SAFE_INTEGER, 0, 0, [1, 0, new Uint8Array(1)]],
      [4, 1, 0, 0, 0, { 0: 1 }],
      [8, 1, 1, 1, ['a b'], [], 0, 1, new Uint8Array(1), true],
      [8, 1, 1, 1, ['join'], [], 0, 1, new Uint8Array(1), true],
      [8, 1, 1, 1, [], [], 0, 1, 'x', true],
      { type: 'heartbeat', term: 1, commit: 0 },
      'heartbeat',
      null,
    ];
    for (const value of refused) expect(typeof codec.decode(pack(value), 'a', 'b'), JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).toBe('string');
  });

  it('gives a reason for arbitrary msgpack values', () => {
    fc.assert(fc.property(fc.anything({ withTypedArray: true, withBigInt: true, withMap: true, withSet: true, withDate: true }), (value) => {
      let encoded: Uint8Array;
      try {
        encoded = pack(value);
      } catch {
        return;
      }
      expectTotal(codec.decode(encoded, 'a', 'b'));
    }), { numRuns: 2000 });
  });
});

describe('frames', () => {
  let nextId = 0;
  const ids = (): number => nextId++;

  it('stay within their bound and give back every message, in order, whole or reassembled', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 200, max: 4000 }),
        (sizes, frameBytesMax) => {
          const messages = sizes.map((size, i) => new Uint8Array(size).fill(i % 251));
          const frames = packFrames('node-a', 'node-b', messages, frameBytesMax, ids);
          const reassembly = new Reassembly({ messageBytesMax: 1 << 20, bytesMax: 1 << 22, partialsMax: 4, timeoutMs: 60_000 }, () => {
            throw new Error('nothing should be dropped');
          });
          const received: Uint8Array[] = [];
          for (const frame of frames) {
            expect(frame.length).toBeLessThanOrEqual(frameBytesMax);
            const read = readFrame(frame);
            if (typeof read === 'string') throw new Error(read);
            expect([read.from, read.to]).toEqual(['node-a', 'node-b']);
            if (read.kind === FrameKind.Batch) received.push(...read.messages.map((m) => new Uint8Array(m)));
            else {
              const whole = reassembly.add(read);
              if (whole) received.push(whole);
            }
          }
          expect(received.map((m) => Array.from(m))).toEqual(messages.map((m) => Array.from(m)));
          expect(reassembly.partialCount).toBe(0);
          reassembly.clear();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('batches many small messages into one frame', () => {
    const frames = packFrames('a', 'b', Array.from({ length: 100 }, () => new Uint8Array(10)), 1024 * 1024, ids);
    expect(frames).toHaveLength(1);
    const read = readFrame(frames[0]!);
    expect(typeof read !== 'string' && read.kind === FrameKind.Batch && read.messages.length).toBe(100);
  });

  it('gives a reason, never an exception, for random or cut frames', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (random) => void readFrame(random)), { numRuns: 3000 });
    const frame = packFrames('a', 'b', [new Uint8Array(30), new Uint8Array(40)], 1000, ids)[0]!;
    for (let cut = 0; cut < frame.length; cut++) expect(typeof readFrame(frame.subarray(0, cut))).toBe('string');
    expect(readFrame(Buffer.concat([frame, Buffer.from([0])]))).toMatch(/bytes after/);
  });
});

describe('reassembly', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function fragment(messageId: number, totalBytes: number, offset: number, length: number, from = 'a'): FragmentFrame {
    return { kind: FrameKind.Fragment, from, to: 'b', messageId, totalBytes, offset, chunk: new Uint8Array(length).fill(offset % 256) };
  }

  it('gives up a message whose fragment is lost after the timeout, freeing what it held', () => {
    vi.useFakeTimers();
    const drops: string[] = [];
    const reassembly = new Reassembly({ messageBytesMax: 1000, bytesMax: 10_000, partialsMax: 8, timeoutMs: 5_000 }, (reason) => drops.push(reason));
    expect(reassembly.add(fragment(1, 300, 0, 100))).toBeUndefined();
    expect(reassembly.add(fragment(1, 300, 200, 100))).toBeUndefined();
    expect(reassembly.partialBytes).toBe(200);
    vi.advanceTimersByTime(5_000);
    expect(reassembly.partialCount).toBe(0);
    expect(reassembly.partialBytes).toBe(0);
    expect(reassembly.stats().expired).toBe(1);
    expect(drops[0]).toMatch(/incomplete after 5000 ms \(200 of 300 bytes\)/);
    // The late fragment starts a new partial message rather than completing a stale one.
    expect(reassembly.add(fragment(1, 300, 100, 100))).toBeUndefined();
    reassembly.clear();
  });

  it('stays within its bounds: the oldest partial is evicted, a message over the limit refused', () => {
    const reassembly = new Reassembly({ messageBytesMax: 1000, bytesMax: 500, partialsMax: 2, timeoutMs: 60_000 }, () => undefined);
    reassembly.add(fragment(1, 1000, 0, 200));
    reassembly.add(fragment(2, 1000, 0, 200));
    reassembly.add(fragment(3, 1000, 0, 200));
    expect(reassembly.partialCount).toBe(2);
    expect(reassembly.stats().evicted).toBe(1);
    reassembly.add(fragment(3, 1000, 200, 200));
    expect(reassembly.partialBytes).toBeLessThanOrEqual(500);
    expect(reassembly.add(fragment(9, 2000, 0, 10))).toBeUndefined();
    expect(reassembly.stats().refused).toBe(1);
    for (let id = 100; id < 1000; id++) reassembly.add(fragment(id, 1000, 0, 100, `n${id % 3}`));
    expect(reassembly.partialCount).toBeLessThanOrEqual(2);
    expect(reassembly.partialBytes).toBeLessThanOrEqual(500);
    reassembly.clear();
  });

  it('ignores duplicates and refuses overlapping or inconsistent fragments', () => {
    const reassembly = new Reassembly({ messageBytesMax: 1000, bytesMax: 10_000, partialsMax: 8, timeoutMs: 60_000 }, () => undefined);
    reassembly.add(fragment(1, 20, 0, 10));
    reassembly.add(fragment(1, 20, 0, 10));
    expect(reassembly.add(fragment(1, 20, 10, 10))).toHaveLength(20);
    reassembly.add(fragment(2, 20, 0, 12));
    expect(reassembly.add(fragment(2, 20, 10, 10))).toBeUndefined();
    reassembly.add(fragment(3, 20, 0, 10));
    reassembly.add(fragment(3, 30, 10, 10));
    expect(reassembly.stats()).toMatchObject({ completed: 1, refused: 2 });
    expect(reassembly.partialCount).toBe(1);
    reassembly.clear();
  });
});
