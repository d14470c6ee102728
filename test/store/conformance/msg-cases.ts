// Conformance cases for MsgStore: batches and sequences, lookups, limits by count/bytes/age.

import { expect, it } from 'vitest';
import { defaultStoreLimits, type ChannelLimits } from '../../../src/store/limits.js';
import type { MsgProto } from '../../../src/store/records.js';
import { NOT_LOADED, StoreErrorCode, type MsgStore } from '../../../src/store/types.js';
import { BASE_TIME_NS, expectCode, msg, view, type Harness } from './harness.js';

function withGlobal(fields: Partial<ChannelLimits>) {
  const limits = defaultStoreLimits();
  return { ...limits, global: { ...limits.global, ...fields } };
}

async function lookupBoth(store: MsgStore, seq: number): Promise<MsgProto | undefined> {
  const sync = store.lookupSync(seq);
  const viaPromise = await store.lookup(seq);
  if (sync !== NOT_LOADED) expect(view(sync)).toEqual(view(viaPromise));
  return viaPromise;
}

export function msgCases(h: () => Harness): void {
  it('assigns consecutive sequences to a batch, in place, and reports it', async () => {
    const store = await h().fresh();
    const { msgs } = await store.createChannel('foo');
    const batch = ['a', 'b', 'c'].map((p, i) => msg('foo', p, BASE_TIME_NS + BigInt(i)));
    const stored = msgs.storeBatch(batch);
    expect(batch.map((m) => m.sequence)).toEqual([1, 2, 3]);
    expect([stored.firstSeq, stored.lastSeq]).toEqual([1, 3]);
    await stored.durable;
    const next = msgs.storeBatch([msg('foo', 'd', BASE_TIME_NS + 3n)]);
    expect([next.firstSeq, next.lastSeq]).toEqual([4, 4]);
    await msgs.flush();
    expect([msgs.firstSequence(), msgs.lastSequence()]).toEqual([1, 4]);
    expect(msgs.state()).toEqual({ msgs: 4, bytes: [...batch, msg('foo', 'd', BASE_TIME_NS + 3n, 4)].reduce((s, m) => s + h().storedSize(m), 0) });
    expect(view(await lookupBoth(msgs, 2))).toEqual(view(msg('foo', 'b', BASE_TIME_NS + 1n, 2)));
  });

  it('handles an empty batch and an empty channel', async () => {
    const store = await h().fresh();
    const { msgs } = await store.createChannel('foo');
    const stored = msgs.storeBatch([]);
    await stored.durable;
    expect([msgs.firstSequence(), msgs.lastSequence()]).toEqual([0, 0]);
    expect(await msgs.firstMsg()).toBeUndefined();
    expect(await msgs.lastMsg()).toBeUndefined();
    expect(await lookupBoth(msgs, 1)).toBeUndefined();
    expect(await msgs.sequenceFromTimestamp(BASE_TIME_NS)).toBe(1);
  });

  it('accepts given sequences with gaps and rejects any that do not increase, atomically', async () => {
    const store = await h().fresh();
    const { msgs } = await store.createChannel('foo');
    msgs.storeBatch([msg('foo', 'a', BASE_TIME_NS, 5), msg('foo', 'b', BASE_TIME_NS, 9)]);
    expect([msgs.firstSequence(), msgs.lastSequence()]).toEqual([5, 9]);
    expect(await lookupBoth(msgs, 7)).toBeUndefined();
    expect(view(await lookupBoth(msgs, 9))).toEqual(view(msg('foo', 'b', BASE_TIME_NS, 9)));
    expect(() => msgs.storeBatch([msg('foo', 'c', BASE_TIME_NS, 10), msg('foo', 'd', BASE_TIME_NS, 10)])).toThrow(
      expectCode(StoreErrorCode.SequenceInvalid),
    );
    expect(() => msgs.storeBatch([msg('foo', 'c', BASE_TIME_NS, 3)])).toThrow(expectCode(StoreErrorCode.SequenceInvalid));
    expect(msgs.lastSequence()).toBe(9);
    expect(msgs.state().msgs).toBe(2);
    msgs.storeBatch([msg('foo', 'e', BASE_TIME_NS)]);
    expect(msgs.lastSequence()).toBe(10);
  });

  it('rejects malformed messages without storing any of the batch', async () => {
    const store = await h().fresh();
    const { msgs } = await store.createChannel('foo');
    const bad: unknown[] = [
      { ...msg('foo', 'x', BASE_TIME_NS), timestamp: 5 },
      { ...msg('foo', 'x', BASE_TIME_NS), data: 'text' },
      { ...msg('foo', 'x', BASE_TIME_NS), sequence: -1 },
      { ...msg('foo', 'x', BASE_TIME_NS), sequence: 1.5 },
      null,
    ];
    for (const b of bad) {
      expect(() => msgs.storeBatch([msg('foo', 'ok', BASE_TIME_NS), b as MsgProto])).toThrow(
        expectCode(StoreErrorCode.RecordInvalid),
      );
    }
    expect(() => msgs.storeBatch('nope' as never)).toThrow(expectCode(StoreErrorCode.RecordInvalid));
    expect(msgs.state()).toEqual({ msgs: 0, bytes: 0 });
    expect(msgs.lastSequence()).toBe(0);
  });

  it('answers lookups outside the range, or with nonsense sequences, with undefined', async () => {
    const store = await h().fresh();
    const { msgs } = await store.createChannel('foo');
    msgs.storeBatch([msg('foo', 'a', BASE_TIME_NS)]);
    for (const seq of [0, 2, -1, 1.5, Number.NaN, 2 ** 60]) expect(await lookupBoth(msgs, seq)).toBeUndefined();
  });

  it('keeps nanosecond timestamps exact and finds sequences by timestamp', async () => {
    const store = await h().fresh();
    const { msgs } = await store.createChannel('foo');
    const t = [BASE_TIME_NS + 1n, BASE_TIME_NS + 1n, BASE_TIME_NS + 3n, BASE_TIME_NS + 7n];
    msgs.storeBatch(t.map((ts, i) => msg('foo', `m${i}`, ts)));
    expect((await msgs.lookup(4))?.timestamp).toBe(BASE_TIME_NS + 7n);
    expect(await msgs.sequenceFromTimestamp(BASE_TIME_NS)).toBe(1);
    expect(await msgs.sequenceFromTimestamp(BASE_TIME_NS + 1n)).toBe(1);
    expect(await msgs.sequenceFromTimestamp(BASE_TIME_NS + 2n)).toBe(3);
    expect(await msgs.sequenceFromTimestamp(BASE_TIME_NS + 7n)).toBe(4);
    expect(await msgs.sequenceFromTimestamp(BASE_TIME_NS + 8n)).toBe(5);
    expect((await msgs.firstMsg())?.sequence).toBe(1);
    expect((await msgs.lastMsg())?.sequence).toBe(4);
  });

  it('drops the oldest messages silently beyond max_msgs, reporting the limit once', async () => {
    const store = await h().fresh(withGlobal({ maxMsgs: 3 }));
    const { msgs } = await store.createChannel('foo');
    for (let i = 0; i < 3; i++) msgs.storeBatch([msg('foo', `a${i}`, BASE_TIME_NS), msg('foo', `b${i}`, BASE_TIME_NS)]);
    expect([msgs.firstSequence(), msgs.lastSequence()]).toEqual([4, 6]);
    expect(msgs.state().msgs).toBe(3);
    expect(await lookupBoth(msgs, 3)).toBeUndefined();
    expect((await msgs.firstMsg())?.sequence).toBe(4);
    expect(h().limitEvents).toEqual([{ channel: 'foo', reason: 'msgs' }]);
  });

  it('drops the oldest beyond max_bytes but always keeps the last message', async () => {
    const one = h().storedSize(msg('foo', 'xxxxxxxxxx', BASE_TIME_NS, 1));
    const store = await h().fresh(withGlobal({ maxBytes: one * 2 }));
    const { msgs } = await store.createChannel('foo');
    msgs.storeBatch([1, 2, 3].map(() => msg('foo', 'xxxxxxxxxx', BASE_TIME_NS)));
    expect(msgs.state()).toEqual({ msgs: 2, bytes: one * 2 });
    expect(msgs.firstSequence()).toBe(2);
    msgs.storeBatch([msg('foo', 'y'.repeat(one * 3), BASE_TIME_NS)]);
    expect(msgs.state().msgs).toBe(1);
    expect(msgs.firstSequence()).toBe(4);
    expect(h().limitEvents).toEqual([{ channel: 'foo', reason: 'bytes' }]);
  });

  it('expires messages older than max_age, on store and on request', async () => {
    const harness = h();
    const store = await harness.fresh(withGlobal({ maxAgeMs: 1000 }));
    const { msgs } = await store.createChannel('foo');
    const clock = harness.clock;
    msgs.storeBatch([msg('foo', 'old', clock.now - 2_000_000_000n), msg('foo', 'a', clock.now)]);
    expect(msgs.firstSequence()).toBe(2);
    clock.advanceMs(500);
    msgs.storeBatch([msg('foo', 'b', clock.now)]);
    expect(msgs.expireAged(clock.now)).toBe(0);
    clock.advanceMs(600);
    expect(msgs.expireAged(clock.now)).toBe(1);
    expect([msgs.firstSequence(), msgs.lastSequence(), msgs.state().msgs]).toEqual([3, 3, 1]);
    clock.advanceMs(1000);
    expect(msgs.expireAged(clock.now)).toBe(1);
    // Emptied by age: first is last+1, so "all available" starts after what was dropped.
    expect([msgs.firstSequence(), msgs.lastSequence()]).toEqual([4, 3]);
    expect(msgs.state()).toEqual({ msgs: 0, bytes: 0 });
    expect(await msgs.sequenceFromTimestamp(BASE_TIME_NS)).toBe(4);
    msgs.storeBatch([msg('foo', 'c', clock.now)]);
    expect([msgs.firstSequence(), msgs.lastSequence()]).toEqual([4, 4]);
    expect(harness.limitEvents).toEqual([{ channel: 'foo', reason: 'age' }]);
  });

  it('applies per-channel limits only to matching channels', async () => {
    const limits = defaultStoreLimits();
    const store = await h().fresh({
      ...limits,
      perChannel: new Map([['small.*', { ...limits.global, maxMsgs: 1 }]]),
    });
    const small = await store.createChannel('small.one');
    const big = await store.createChannel('big');
    for (const channel of [small, big]) channel.msgs.storeBatch([msg(channel.name, 'a', BASE_TIME_NS), msg(channel.name, 'b', BASE_TIME_NS)]);
    expect(small.msgs.state().msgs).toBe(1);
    expect(big.msgs.state().msgs).toBe(2);
  });

  it('stores large batches with every sequence retrievable', async () => {
    const store = await h().fresh();
    const { msgs } = await store.createChannel('foo');
    for (let b = 0; b < 10; b++) {
      msgs.storeBatch(Array.from({ length: 500 }, (_, i) => msg('foo', `${b}-${i}`, BASE_TIME_NS + BigInt(b))));
    }
    await msgs.flush();
    expect(msgs.state().msgs).toBe(5000);
    for (const seq of [1, 499, 500, 501, 2500, 5000]) {
      const m = await lookupBoth(msgs, seq);
      const b = Math.floor((seq - 1) / 500);
      expect(Buffer.from(m!.data).toString()).toBe(`${b}-${(seq - 1) % 500}`);
    }
  });
}
