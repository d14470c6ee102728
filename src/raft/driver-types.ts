// What the driver asks of the application and what it promises back: the replicated state
// machine (with one result per applied entry and an optional store sync), the driver's options,
// its events, and what a proposal or a membership change resolves with.
import type { RaftTraceSink } from './trace.js';
import type { Logger } from '../util/logger.js';
import type { Entry } from './types.js';
import type { ClusterConfig, Message } from './messages.js';
import type { RaftOptions, RandomSource } from './options.js';
import type { Role } from './raft.js';
import type { RaftTransport } from './transport.js';
import type { DurableStorage } from './storage.js';

/**
 * The replicated application. Apply must be deterministic: every node applies the same entries
 * and reaches the same state. `R` is what applying one entry yields for its proposer (e.g. the
 * outcome of an operation); declare it to include `undefined` for the slots described below.
 */
export interface RaftStateMachine<R = unknown> {
  /**
   * Committed entries, in log order, each exactly once per incarnation (after restore). Every
   * entry is passed, noops and membership changes too, so the application sees every index (to
   * record the last one it applied with its effects). Returns exactly one result per entry, in
   * the same order: the result of a Normal entry is what propose() resolves with on the node
   * that proposed it; the slot of a Noop or ConfigChange entry is ignored (put `undefined`).
   */
  apply(entries: readonly Entry[]): readonly R[] | Promise<readonly R[]>;
  /** The state as of the last applied entry. */
  snapshot(): Uint8Array | Promise<Uint8Array>;
  /** Replaces the state by a snapshot's. */
  restore(data: Uint8Array): void | Promise<void>;
  /**
   * Optional: resolves once every effect of the entries up to `index` is durable in the
   * application's own store. The application need not fsync each apply, because the Raft log
   * is its write-ahead log; so the driver awaits this before it saves a snapshot covering
   * `index` and before it deletes log entries up to `index`.
   */
  sync?(index: number): Promise<void>;
}

/** A proposal applied on this node: its index and what the state machine returned for it. */
export interface ProposalResult<R> {
  readonly index: number;
  readonly result: R;
}

/** A membership change applied on this node: its index and the configuration it made. */
export interface ConfigChangeResult {
  readonly index: number;
  readonly config: ClusterConfig;
}

export type RaftDriverEvent =
  | { readonly type: 'role'; readonly role: Role; readonly leader: string; readonly term: number }
  | { readonly type: 'applied'; readonly index: number }
  | { readonly type: 'snapshot'; readonly action: 'taken' | 'installed'; readonly index: number }
  | { readonly type: 'stopped'; readonly error?: unknown };

export interface RaftDriverOptions<R = unknown> {
  readonly id: string;
  readonly storage: DurableStorage;
  readonly transport: RaftTransport<Message>;
  readonly stateMachine: RaftStateMachine<R>;
  /** Founding voters: written into an empty log on first start (ignored when the log has state). */
  readonly bootstrap?: ClusterConfig;
  /**
   * This node's Raft state was lost (empty log and hard state while the cluster exists, as the
   * application's startup decides): it neither votes nor campaigns until it has caught up with
   * a leader (see catch-up-gate.ts). `bootstrap` is ignored then. Nothing of it is persisted: a
   * restart before it has caught up must pass it again.
   */
  readonly rejoining?: boolean;
  /** Length of one core tick (default 100 ms). */
  readonly tickMs?: number;
  /** Take an application snapshot after this many applied entries (default 8192). */
  readonly snapshotEveryEntries?: number;
  /**
   * Take one when this long has passed since the last and at least one entry was applied since
   * (default 120 000 ms, as hashicorp/raft; 0 turns it off). Measured in ticks.
   */
  readonly snapshotIntervalMs?: number;
  /** Options of the core (election and heartbeat ticks, batch bounds, trailing logs, promotion...). */
  readonly raft?: Omit<RaftOptions, 'id' | 'random' | 'logger'>;
  /** Seeded election jitter; defaults to Math.random (the driver is the one impure file). */
  readonly random?: RandomSource;
  readonly logger?: Logger;
  /** Test hook: role, leadership, persisted, applied and snapshot events (src/raft/trace.ts). Off when absent. */
  readonly trace?: RaftTraceSink;
}

export interface RaftDriverStats {
  readonly readies: number;
  readonly persists: number;
  readonly syncs: number;
  readonly entriesPersisted: number;
  readonly entriesApplied: number;
  readonly proposalsCommitted: number;
}
