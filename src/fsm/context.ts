// What the apply functions of one state machine share: the records, the store under them, and
// the durability promises an apply collects for its caller.
import type { Logger } from '../util/logger.js';
import type { Store, SubState, SubStore } from '../store/types.js';
import type { StreamingState, SubRecord } from './records.js';
import { effectiveLastSent } from './records.js';

/**
 * The clock handed to the store: it shows the time of the op being applied (a publish batch's
 * timestamp, an expiry's decision time), never the wall clock. A store reads it only while it
 * applies that op (age limits on store), so what it drops depends on the channel's own ops alone.
 */
export class ReplicatedClock {
  private timeNs = 0n;

  nowNs(): bigint {
    return this.timeNs;
  }

  set(ns: bigint): void {
    this.timeNs = ns;
  }
}

export class FsmContext {
  /** Effects handed to the store during the current apply whose durability is still pending. */
  private durability: Array<Promise<unknown>> = [];
  private readonly dirtySubStores = new Set<SubStore>();

  constructor(
    /** Replaced wholesale when a snapshot is restored. */
    public state: StreamingState,
    readonly store: Store,
    /** Client and subscription records are written to the store too (standalone FILE). */
    readonly persistRecords: boolean,
    readonly clock: ReplicatedClock,
    readonly logger: Logger,
  ) {}

  awaitDurable(promise: Promise<unknown>): void {
    this.durability.push(promise);
  }

  markSubsDirty(subs: SubStore): void {
    if (this.persistRecords) this.dirtySubStores.add(subs);
  }

  /** Everything the apply since the last call made durable-pending, as one Promise. */
  takeDurability(): Promise<void> {
    for (const subs of this.dirtySubStores) this.durability.push(subs.flush());
    this.dirtySubStores.clear();
    const pending = this.durability;
    this.durability = [];
    if (pending.length === 0) return RESOLVED;
    if (pending.length === 1) return pending[0]!.then(noop);
    return Promise.all(pending).then(noop);
  }
}

const RESOLVED = Promise.resolve();
function noop(): void {}

export function subStateOf(sub: SubRecord): SubState {
  return {
    id: sub.id,
    clientId: sub.clientId,
    qGroup: sub.qGroup,
    inbox: sub.inbox,
    ackInbox: sub.ackInbox,
    maxInFlight: sub.maxInFlight,
    ackWaitInSecs: sub.ackWaitInSecs,
    durableName: sub.durableName,
    lastSent: effectiveLastSent(sub),
    isDurable: sub.isDurable,
    isClosed: sub.isClosed,
  };
}
