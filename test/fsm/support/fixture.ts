// State machines over each kind of store for the FSM tests: MEMORY, FILE on a simulated disk
// (records kept in memory only, as a cluster node does) and FILE writing its records to the
// store too (as a standalone node does). Ops are built against one "leader" machine, the way a
// serving node decides them from the state it has applied.
import { ReplicatedClock } from '../../../src/fsm/context.js';
import { StanFsm } from '../../../src/fsm/stan-fsm.js';
import type { ApplyOutcome } from '../../../src/fsm/stan-fsm.js';
import { applyEncodedOps } from '../../../src/fsm/codec.js';
import type { OpResult, Op } from '../../../src/fsm/ops.js';
import { FileStore } from '../../../src/store/file/file-store.js';
import { SimDisk } from '../../../src/store/file/sim-disk.js';
import { openMemoryStore } from '../../../src/store/memory/memory-store.js';
import type { Store, StoreLimits } from '../../../src/store/types.js';
import { silentLogger } from '../../../src/util/logger.js';
import { serverInfo } from '../../store/conformance/harness.js';

export type FsmKind = 'memory' | 'file' | 'file-persisting';

export interface FsmUnderTest {
  readonly kind: FsmKind;
  readonly fsm: StanFsm;
  readonly store: Store;
}

export async function openFsm(kind: FsmKind, limits: StoreLimits): Promise<FsmUnderTest> {
  const clock = new ReplicatedClock();
  const logger = silentLogger();
  let store: Store;
  if (kind === 'memory') {
    store = await openMemoryStore({ limits, clock, ageExpiry: 'caller', logger });
  } else {
    store = new FileStore({ dir: '/data', io: new SimDisk(), limits, clock, ageExpiry: 'caller', logger });
    await store.recover();
  }
  await store.init(serverInfo());
  const fsm = new StanFsm({ store, clock, persistRecords: kind === 'file-persisting', logger });
  return { kind, fsm, store };
}

/** Applies ops and waits for the store to report them durable; returns the results. */
export async function applyAll(fsm: StanFsm, ops: readonly Op[]): Promise<OpResult[]> {
  const outcome: ApplyOutcome = await fsm.apply(ops);
  await outcome.durable;
  return outcome.results;
}

export async function applyEncoded(fsm: StanFsm, bytes: Uint8Array): Promise<OpResult[]> {
  const outcome = await applyEncodedOps(fsm, bytes);
  await outcome.durable;
  return outcome.results;
}
