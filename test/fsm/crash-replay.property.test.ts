// Proves that applying is idempotent across crashes, as a cluster node needs it: a node applies
// ops to a FILE store on a simulated disk without waiting for the store's fsyncs (the Raft log is
// its write-ahead log), takes a snapshot at a random point (after syncing the store, as the
// driver does before it snapshots or compacts), and loses power at a random later point — torn
// tails, store ahead of or behind the snapshot. Restored from that snapshot and replaying every
// op after it, it must reach exactly the state of a machine that applied everything once.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplicatedClock } from '../../src/fsm/context.js';
import { describeState } from '../../src/fsm/digest.js';
import { emptyStreamingState } from '../../src/fsm/records.js';
import { encodeSnapshot, restoreSnapshot } from '../../src/fsm/snapshot.js';
import { StanFsm } from '../../src/fsm/stan-fsm.js';
import { applyEncodedOps } from '../../src/fsm/codec.js';
import { FileStore } from '../../src/store/file/file-store.js';
import { SimDisk } from '../../src/store/file/sim-disk.js';
import type { StoreLimits } from '../../src/store/types.js';
import { silentLogger } from '../../src/util/logger.js';
import { serverInfo } from '../store/conformance/harness.js';
import { applyAll, applyEncoded, openFsm } from './support/fixture.js';
import { OpBuilder, intentArb, limitsArb, type Step } from './support/op-model.js';

const logger = silentLogger();

async function openNode(disk: SimDisk, limits: StoreLimits): Promise<{ store: FileStore; clock: ReplicatedClock }> {
  const clock = new ReplicatedClock();
  const store = new FileStore({ dir: '/data', io: disk, limits, clock, ageExpiry: 'caller', logger, file: { sliceMaxMsgs: 4 } });
  if ((await store.recover()) === undefined) await store.init(serverInfo());
  return { store, clock };
}

/** Applies without waiting for the store's fsyncs; a failed one (the power failure) is expected. */
async function applyLoosely(fsm: StanFsm, step: Step): Promise<void> {
  const outcome = 'bytes' in step ? await applyEncodedOps(fsm, step.bytes) : await fsm.apply(step.ops);
  outcome.durable.catch(() => undefined);
}

describe('crash and replay', () => {
  it('restoring the last snapshot and replaying the log after it converges, wherever power failed', async () => {
    await fc.assert(
      fc.asyncProperty(
        limitsArb,
        fc.array(intentArb, { minLength: 10, maxLength: 80 }),
        fc.nat(),
        fc.nat(),
        fc.integer(),
        async (limits, intents, snapshotPick, crashPick, seed) => {
          const snapshotAt = snapshotPick % (intents.length + 1);
          const crashAt = snapshotAt + (crashPick % (intents.length - snapshotAt + 1));
          const reference = await openFsm('memory', limits);
          const builder = new OpBuilder();
          const steps: Step[] = [];
          for (const intent of intents) {
            const step = builder.build(intent, reference.fsm.state);
            steps.push(step);
            if ('bytes' in step) await applyEncoded(reference.fsm, step.bytes);
            else await applyAll(reference.fsm, step.ops);
          }

          const disk = new SimDisk();
          const first = await openNode(disk, limits);
          const node = new StanFsm({ store: first.store, clock: first.clock, persistRecords: false, logger });
          let snapshot = encodeSnapshot(emptyStreamingState());
          for (let i = 0; i < crashAt; i++) {
            if (i === snapshotAt) {
              await node.sync();
              snapshot = encodeSnapshot(node.state);
            }
            await applyLoosely(node, steps[i]!);
          }
          if (crashAt === snapshotAt) {
            await node.sync();
            snapshot = encodeSnapshot(node.state);
          }
          let random = seed >>> 0 || 1;
          disk.powerFail(() => {
            random = (random * 1103515245 + 12345) >>> 0;
            return random / 2 ** 32;
          });

          const second = await openNode(disk, limits);
          const { state } = await restoreSnapshot(second.store, second.clock, snapshot);
          const restored = new StanFsm({ store: second.store, clock: second.clock, persistRecords: false, logger, state });
          for (let i = snapshotAt; i < steps.length; i++) {
            const step = steps[i]!;
            if ('bytes' in step) await applyEncoded(restored, step.bytes);
            else await applyAll(restored, step.ops);
          }
          expect(await describeState(restored.state)).toEqual(await describeState(reference.fsm.state));
          await second.store.close();
          await reference.store.close();
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});
