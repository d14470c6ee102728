// The driver's status for readiness probes and a cluster view: the core's status, what the
// application has applied, the leader's view of each peer, snapshot activity, and counters.
import type { RaftCounters } from './raft.js';
import type { ProgressState } from './progress.js';
import type { RaftNodeStatus } from './node.js';

export interface PeerStatus {
  readonly id: string;
  readonly voter: boolean;
  /** The highest index known to match the leader's log. */
  readonly match: number;
  /** The next index to send. */
  readonly next: number;
  /** How far its match is behind the leader's last index. */
  readonly lag: number;
  readonly state: ProgressState;
  readonly inflight: number;
  /** Heard from since the last CheckQuorum round. */
  readonly recentActive: boolean;
}

export interface RaftDriverCounters extends RaftCounters {
  /** Times this node saw a new leader (itself included). */
  readonly leadershipChanges: number;
  readonly snapshotsTaken: number;
  readonly snapshotsInstalled: number;
  /** Entries the application applied in this incarnation. */
  readonly entriesApplied: number;
  /** fsyncs of the Raft log (and snapshots) in this incarnation. */
  readonly syncs: number;
  /** syncs / entriesApplied: well below 1 when group commit works. */
  readonly syncsPerAppliedEntry: number;
}

export interface SnapshotActivity {
  /** Index of the latest durable snapshot (0 if none). */
  readonly lastIndex: number;
  /** This node is taking one of its own state. */
  readonly taking: boolean;
  /** Leader: peers being sent one. */
  readonly sending: readonly string[];
  /** Follower: one is arriving, waiting to be persisted, or being restored. */
  readonly installing: boolean;
}

export interface RaftDriverStatus extends RaftNodeStatus {
  /** What the application has applied (may run ahead of the core's count during a Ready). */
  readonly applied: number;
  /**
   * Ready to serve: a leader is known, the node is not catching up after rejoining, and it has
   * applied at least the commit index last heard from a leader (`leaderCommit`).
   */
  readonly caughtUp: boolean;
  /** Leader only: every other member, voters first. */
  readonly peers: readonly PeerStatus[];
  readonly snapshot: SnapshotActivity;
  readonly counters: RaftDriverCounters;
}

export interface DriverFacts {
  readonly applied: number;
  readonly lastSnapshotIndex: number;
  readonly takingSnapshot: boolean;
  readonly restoringSnapshot: boolean;
  readonly leadershipChanges: number;
  readonly snapshotsTaken: number;
  readonly snapshotsInstalled: number;
  readonly entriesApplied: number;
  readonly syncs: number;
}

export function buildDriverStatus(core: RaftNodeStatus, facts: DriverFacts): RaftDriverStatus {
  const peers: PeerStatus[] = [];
  for (const [id, progress] of core.progress) {
    if (id === core.id) continue;
    const { match, next, state, inflight, recentActive } = progress;
    const voter = core.config.voters.includes(id);
    peers.push({ id, voter, match, next, lag: Math.max(0, core.lastIndex - match), state, inflight, recentActive });
  }
  peers.sort((a, b) => Number(b.voter) - Number(a.voter) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    ...core,
    applied: facts.applied,
    caughtUp: core.leader !== '' && !core.catchingUp && facts.applied >= core.leaderCommit,
    peers,
    snapshot: {
      lastIndex: facts.lastSnapshotIndex,
      taking: facts.takingSnapshot,
      sending: core.snapshotsSending,
      installing: core.snapshotReceiving || facts.restoringSnapshot,
    },
    counters: {
      ...core.counters,
      leadershipChanges: facts.leadershipChanges,
      snapshotsTaken: facts.snapshotsTaken,
      snapshotsInstalled: facts.snapshotsInstalled,
      entriesApplied: facts.entriesApplied,
      syncs: facts.syncs,
      syncsPerAppliedEntry: facts.entriesApplied === 0 ? 0 : facts.syncs / facts.entriesApplied,
    },
  };
}
