// What a clustered node is configured with (`--clustered` and the `cluster {}` keys), and how the
// reference's raft_* timeouts map onto the Raft core's ticks.
import type { RaftOptions } from '../raft/options.js';
import type { RaftTraceSink } from '../raft/trace.js';
import type { DurabilityReporter } from '../store/durability.js';
import type { EncryptionSettings } from '../store/crypto/payload-cipher.js';

export interface ClusterSettings {
  /** This node's ID; '' to use the one the store recorded, or a new random one. */
  readonly nodeId: string;
  /** The other founding voters' IDs (`--cluster_peers`, own ID removed). */
  readonly peers: readonly string[];
  /** Seed a new cluster with this node alone (`--cluster_bootstrap`). */
  readonly bootstrap: boolean;
  /** Directory of the Raft log and snapshots; '' for `<store dir>/.raft`. */
  readonly logPath: string;
  readonly logCacheSize: number;
  readonly logSnapshots: number;
  readonly trailingLogs: number;
  /** fsync the Raft log before acknowledging (`--cluster_sync`, tstan's default true). */
  readonly sync: boolean;
  readonly raftLogging: boolean;
  readonly proceedOnRestoreFailure: boolean;
  readonly allowAddRemoveNode: boolean;
  readonly heartbeatTimeoutMs: number;
  readonly electionTimeoutMs: number;
  readonly leaseTimeoutMs: number;
  readonly commitTimeoutMs: number;
  /** How long a leader shutting down waits for a peer to take over (0: no transfer). */
  readonly transferLeadershipMs?: number;
  /** Take a snapshot after this many applied entries (default 8192). */
  readonly snapshotEveryEntries?: number;
  /** Encryption at rest (`-encrypt`): Raft log entries are sealed as the store's payloads are. */
  readonly encryption?: EncryptionSettings;
  /** Test hooks, off when absent (src/cli/test-hooks.ts): Raft trace events, fsync reports. */
  readonly raftTrace?: RaftTraceSink;
  readonly durability?: DurabilityReporter;
}

/**
 * The core counts ticks. A tick is the commit timeout (the leader heartbeats every tick), and a
 * follower that hears nothing for [E, 2E] ticks campaigns, E being the heartbeat timeout (or the
 * election timeout, if longer) in ticks: hashicorp/raft's meaning of those keys.
 */
export function raftTimingOf(settings: ClusterSettings): { tickMs: number; raft: Pick<RaftOptions, 'electionTicks' | 'heartbeatTicks'> } {
  const tickMs = Math.max(10, settings.commitTimeoutMs);
  const timeoutMs = Math.max(settings.heartbeatTimeoutMs, settings.electionTimeoutMs);
  const electionTicks = Math.max(3, Math.round(timeoutMs / tickMs));
  return { tickMs, raft: { electionTicks, heartbeatTicks: 1 } };
}
