// Model-based conformance: random sequences of message and subscription operations (fast-check)
// run against the store and a plain in-test model; the store must agree with the model live and,
// for persistent stores, again after close + reopen + recover.

import { expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultStoreLimits } from '../../../src/store/limits.js';
import type { Channel, Store } from '../../../src/store/types.js';
import { BASE_TIME_NS, msg, sub, type Harness } from './harness.js';

const CHANNELS = ['a', 'b.c'] as const;
const MAX_MSGS = 12;

type Op =
  | { type: 'store'; channel: number; payloads: string[] }
  | { type: 'createSub'; channel: number }
  | { type: 'pending'; channel: number; sub: number; seq: number }
  | { type: 'ack'; channel: number; sub: number; seq: number }
  | { type: 'deleteSub'; channel: number; sub: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ type: fc.constant('store' as const), channel: fc.nat(1), payloads: fc.array(fc.string({ maxLength: 12 }), { maxLength: 6 }) }),
  fc.record({ type: fc.constant('createSub' as const), channel: fc.nat(1) }),
  fc.record({ type: fc.constant('pending' as const), channel: fc.nat(1), sub: fc.nat(4), seq: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ type: fc.constant('ack' as const), channel: fc.nat(1), sub: fc.nat(4), seq: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ type: fc.constant('deleteSub' as const), channel: fc.nat(1), sub: fc.nat(4) }),
);

interface ChannelModel {
  msgs: Array<{ seq: number; payload: string }>;
  last: number;
  subs: Map<number, { pending: Set<number>; lastSent: number }>;
  subIds: number[];
}

function apply(op: Op, channel: Channel, model: ChannelModel): void {
  const subId = model.subIds[op.type === 'store' || op.type === 'createSub' ? 0 : op.sub % Math.max(1, model.subIds.length)] ?? 999;
  switch (op.type) {
    case 'store': {
      channel.msgs.storeBatch(op.payloads.map((p) => msg(CHANNELS[op.channel]!, p, BASE_TIME_NS)));
      for (const payload of op.payloads) model.msgs.push({ seq: ++model.last, payload });
      model.msgs.splice(0, Math.max(0, model.msgs.length - MAX_MSGS));
      return;
    }
    case 'createSub': {
      const s = sub();
      channel.subs.createSub(s);
      model.subIds.push(s.id);
      model.subs.set(s.id, { pending: new Set(), lastSent: 0 });
      return;
    }
    case 'pending': {
      channel.subs.addSeqPending(subId, op.seq);
      const entry = model.subs.get(subId);
      if (entry) {
        entry.pending.add(op.seq);
        entry.lastSent = Math.max(entry.lastSent, op.seq);
      }
      return;
    }
    case 'ack':
      channel.subs.ackSeqPending(subId, op.seq);
      model.subs.get(subId)?.pending.delete(op.seq);
      return;
    case 'deleteSub':
      channel.subs.deleteSub(subId);
      model.subs.delete(subId);
      return;
  }
}

async function compare(channel: Channel, model: ChannelModel): Promise<void> {
  expect(channel.msgs.lastSequence()).toBe(model.last);
  expect(channel.msgs.state().msgs).toBe(model.msgs.length);
  if (model.msgs.length > 0) expect(channel.msgs.firstSequence()).toBe(model.msgs[0]!.seq);
  for (const m of model.msgs) {
    const stored = await channel.msgs.lookup(m.seq);
    expect(Buffer.from(stored!.data).toString()).toBe(m.payload);
  }
  if (model.msgs.length > 0) expect(await channel.msgs.lookup(model.msgs[0]!.seq - 1)).toBeUndefined();
  const listed = channel.subs.list().map((r) => [r.sub.id, r.pending, r.sub.lastSent] as const);
  const expected = [...model.subs].map(([id, e]) => [id, [...e.pending].sort((x, y) => x - y), e.lastSent] as const);
  expect(listed.sort((x, y) => x[0] - y[0])).toEqual(expected.sort((x, y) => x[0] - y[0]));
}

export function modelCases(h: () => Harness, persistent: boolean): void {
  it('agrees with a model over random operation sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const harness = h();
        await harness.tearDown();
        await harness.setUp();
        const limits = defaultStoreLimits();
        let store: Store = await harness.fresh({ ...limits, global: { ...limits.global, maxMsgs: MAX_MSGS } });
        const models: ChannelModel[] = CHANNELS.map(() => ({ msgs: [], last: 0, subs: new Map(), subIds: [] }));
        const channels: Channel[] = [];
        for (const name of CHANNELS) channels.push(await store.createChannel(name));
        for (const op of ops) apply(op, channels[op.channel]!, models[op.channel]!);
        for (let i = 0; i < CHANNELS.length; i++) await compare(channels[i]!, models[i]!);
        if (!persistent) return;
        for (const channel of channels) {
          await channel.msgs.flush();
          await channel.subs.flush();
        }
        const reopened = await harness.reopen(store);
        store = reopened.store;
        for (let i = 0; i < CHANNELS.length; i++) {
          const recovered = reopened.recovered?.channels.find((c) => c.channel.name === CHANNELS[i]);
          await compare(recovered!.channel, models[i]!);
        }
      }),
      { numRuns: 40 },
    );
  });
}
