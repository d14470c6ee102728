// Proves the state machine is deterministic and total, with fast-check: random op sequences
// (built as a leader would, with stale and malformed ones mixed in) applied to independent
// machines over the MEMORY store, the FILE store, and the FILE store that also writes its
// records, give identical results and identical state (records and message content); the same
// ops through the binary codec give the same; restoring a snapshot taken at a random point and
// replaying the rest gives the state of replaying everything; garbage gives the same error on
// every machine and never throws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeOps, encodeOps, isDecodeFailure } from '../../src/fsm/codec.js';
import { describeState } from '../../src/fsm/digest.js';
import { encodeSnapshot, restoreSnapshot } from '../../src/fsm/snapshot.js';
import type { MsgProto } from '../../src/store/types.js';
import { NOT_LOADED } from '../../src/store/types.js';
import { ReplicatedClock } from '../../src/fsm/context.js';
import { StanFsm } from '../../src/fsm/stan-fsm.js';
import { openMemoryStore } from '../../src/store/memory/memory-store.js';
import { silentLogger } from '../../src/util/logger.js';
import { applyAll, applyEncoded, openFsm, type FsmUnderTest } from './support/fixture.js';
import { OpBuilder, intentArb, limitsArb, type Step } from './support/op-model.js';

async function applyStep(target: FsmUnderTest, step: Step, viaCodec: boolean): Promise<unknown> {
  if ('bytes' in step) return applyEncoded(target.fsm, step.bytes);
  return viaCodec ? applyEncoded(target.fsm, encodeOps(step.ops)) : applyAll(target.fsm, step.ops);
}

describe('the streaming state machine', () => {
  it('gives identical results and state on MEMORY, FILE and record-writing FILE, directly and through the codec', async () => {
    await fc.assert(
      fc.asyncProperty(limitsArb, fc.array(intentArb, { minLength: 20, maxLength: 120 }), async (limits, intents) => {
        const leader = await openFsm('memory', limits);
        const others = [await openFsm('file', limits), await openFsm('file-persisting', limits), await openFsm('memory', limits)];
        const builder = new OpBuilder();
        for (const intent of intents) {
          const step = builder.build(intent, leader.fsm.state);
          const expected = JSON.stringify(await applyStep(leader, step, false));
          for (const [i, other] of others.entries()) {
            const got = JSON.stringify(await applyStep(other, step, i === 2));
            expect(got, `${other.kind} on ${JSON.stringify(intent)}`).toBe(expected);
          }
        }
        const state = await describeState(leader.fsm.state);
        for (const other of others) expect(await describeState(other.fsm.state)).toEqual(state);
        for (const one of [leader, ...others]) await one.store.close();
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('restores a snapshot taken at a random point and, replaying the rest, reaches the state of replaying everything', async () => {
    await fc.assert(
      fc.asyncProperty(limitsArb, fc.array(intentArb, { minLength: 20, maxLength: 120 }), fc.nat(), async (limits, intents, cut) => {
        const at = cut % intents.length;
        const leader = await openFsm('memory', limits);
        const builder = new OpBuilder();
        const steps: Step[] = [];
        let restored: FsmUnderTest | undefined;
        for (let i = 0; i < intents.length; i++) {
          if (i === at) restored = await restoreFrom(leader);
          const step = builder.build(intents[i]!, leader.fsm.state);
          steps.push(step);
          await applyStep(leader, step, false);
          if (restored !== undefined) await applyStep(restored, step, false);
        }
        expect(await describeState(restored!.fsm.state)).toEqual(await describeState(leader.fsm.state));
        await leader.store.close();
        await restored!.store.close();
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('decodes what it encodes, and answers every undecodable batch with one error, without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const decoded = decodeOps(bytes);
        if (isDecodeFailure(decoded)) expect(decoded.malformed.length).toBeGreaterThan(0);
        else for (const op of decoded) expect(decodeOps(encodeOps([op]))).toEqual([op]);
      }),
      { numRuns: 2000 },
    );
    const builder = new OpBuilder();
    fc.assert(
      fc.property(intentArb, (intent) => {
        const step = builder.build(intent, { clients: new Map(), clientsByConnId: new Map(), channels: new Map(), nextChannelId: 1 });
        if ('bytes' in step) return;
        const decoded = decodeOps(encodeOps(step.ops));
        expect(isDecodeFailure(decoded)).toBe(false);
        expect(normalize(decoded)).toEqual(normalize(step.ops));
      }),
      { numRuns: 500 },
    );
  });
});

/** A fresh machine restored from the leader's snapshot, fetching payloads from the leader's store. */
async function restoreFrom(leader: FsmUnderTest): Promise<FsmUnderTest> {
  const limits = leader.store.getLimits();
  const clock = new ReplicatedClock();
  const store = await openMemoryStore({ limits, clock, ageExpiry: 'caller', logger: silentLogger() });
  const fetch = async (channel: string, _channelId: number, from: number, to: number): Promise<MsgProto[]> => {
    const msgs = leader.store.lookupChannel(channel)!.msgs;
    const out: MsgProto[] = [];
    for (let seq = from; seq <= to; seq++) {
      const msg = msgs.lookupSync(seq);
      if (msg !== undefined && msg !== NOT_LOADED) out.push(msg);
    }
    return out;
  };
  const { state } = await restoreSnapshot(store, clock, encodeSnapshot(leader.fsm.state), fetch);
  const fsm = new StanFsm({ store, clock, persistRecords: false, logger: silentLogger(), state });
  return { kind: 'memory', fsm, store };
}

/** Byte fields compare by content (the decoder hands back Buffers). */
function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v)));
}
