// Per-seed options: cluster size, fault rates and Raft limits are drawn from the seed (as in
// TigerBeetle's VOPR), so that many seeds cover many shapes; any can be pinned from the CLI.
import type { RaftBugSwitches } from '../../../src/raft/options.js';
import { Rng } from './rng.js';

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly dropRate: number;
  readonly duplicateRate: number;
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
  readonly fsyncMinMs: number;
  readonly fsyncMaxMs: number;
  readonly faultPhaseMs: number;
  readonly healPhaseMsMax: number;
  readonly faultIntervalMs: number;
  readonly crashRestartMsMax: number;
  readonly proposalIntervalMs: number;
  readonly snapshotEveryEntries: number;
  readonly trailingLogs: number;
  readonly logCacheSize: number;
  readonly appendEntriesMax: number;
  readonly inflightMessagesMax: number;
  readonly snapshotChunkBytes: number;
  readonly membershipChanges: boolean;
  /** Start one node outside the cluster, to join during the run. */
  readonly spareNode: boolean;
  readonly tornTails: boolean;
  /** Check at send time that every vote and acknowledgement is backed by durable state. */
  readonly checkDurableBeforeSend: boolean;
  /** Targeted faults (FoundationDB's BUGGIFY): chance to isolate a new leader at once. */
  readonly isolateNewLeaderRate: number;
  /** Chance to crash a leader right after its commit index moves. */
  readonly crashOnCommitRate: number;
  /** Chance that a fault wipes a node's disk; it restarts in rejoin mode (catch-up gate). */
  readonly wipeRate: number;
  /** The leader promotes caught-up non-voters itself (promoteNonVoters) instead of the operator. */
  readonly autoPromote: boolean;
  /** Check that no node's durable vote in a term ever changes (off to prove other checkers). */
  readonly checkVotes: boolean;
  readonly bugs: RaftBugSwitches;
}

export type SimOverrides = Partial<Omit<SimOptions, 'seed'>>;

export function randomOptions(seed: number, overrides: SimOverrides = {}): SimOptions {
  const rng = new Rng(seed ^ 0x5eed);
  const nodes = rng.between(3, 5);
  const membershipChanges = rng.chance(0.4);
  const drawn: SimOptions = {
    seed,
    nodes,
    dropRate: rng.pick([0, 0.01, 0.05, 0.1]),
    duplicateRate: rng.pick([0, 0.01, 0.05]),
    delayMinMs: rng.between(1, 5),
    delayMaxMs: rng.pick([10, 30, 80, 200]),
    fsyncMinMs: 1,
    fsyncMaxMs: rng.pick([2, 10, 30]),
    faultPhaseMs: 20_000,
    healPhaseMsMax: 20_000,
    faultIntervalMs: rng.pick([400, 800, 1500]),
    crashRestartMsMax: rng.pick([300, 1500, 4000]),
    proposalIntervalMs: rng.pick([20, 50, 120]),
    snapshotEveryEntries: rng.pick([15, 40, 100]),
    trailingLogs: rng.pick([2, 10, 30]),
    logCacheSize: rng.pick([0, 8, 64]),
    appendEntriesMax: rng.pick([1, 4, 16]),
    inflightMessagesMax: rng.pick([1, 4, 16]),
    snapshotChunkBytes: rng.pick([64, 256, 4096]),
    membershipChanges,
    spareNode: membershipChanges && nodes > 3 && rng.chance(0.5),
    tornTails: rng.chance(0.5),
    checkDurableBeforeSend: true,
    isolateNewLeaderRate: rng.pick([0, 0, 0.1, 0.3]),
    crashOnCommitRate: rng.pick([0, 0, 0.02, 0.1]),
    bugs: {},
    // Drawn last, so that the draws above (and so each seed's shape) are as they were before.
    wipeRate: rng.pick([0, 0, 0.05, 0.15]),
    autoPromote: membershipChanges && rng.chance(0.5),
    checkVotes: true,
  };
  return { ...drawn, ...overrides };
}

export function describeOptions(options: SimOptions): string {
  const bugs = Object.entries(options.bugs)
    .filter(([, on]) => on === true)
    .map(([name]) => name);
  return [
    `seed=${options.seed}`,
    `nodes=${options.nodes}`,
    `drop=${options.dropRate}`,
    `dup=${options.duplicateRate}`,
    `delay=${options.delayMinMs}-${options.delayMaxMs}ms`,
    `fsync=${options.fsyncMinMs}-${options.fsyncMaxMs}ms`,
    `faultEvery=${options.faultIntervalMs}ms`,
    `restartWithin=${options.crashRestartMsMax}ms`,
    `proposeEvery=${options.proposalIntervalMs}ms`,
    `snapshotEvery=${options.snapshotEveryEntries}`,
    `trailing=${options.trailingLogs}`,
    `cache=${options.logCacheSize}`,
    `batch=${options.appendEntriesMax}`,
    `inflight=${options.inflightMessagesMax}`,
    `chunk=${options.snapshotChunkBytes}B`,
    `membership=${options.membershipChanges}`,
    `spare=${options.spareNode}`,
    `torn=${options.tornTails}`,
    `isolateLeader=${options.isolateNewLeaderRate}`,
    `crashOnCommit=${options.crashOnCommitRate}`,
    `wipe=${options.wipeRate}`,
    ...(options.autoPromote ? ['autoPromote'] : []),
    ...(options.checkDurableBeforeSend ? [] : ['durableCheck=off']),
    ...(options.checkVotes ? [] : ['voteCheck=off']),
    ...(bugs.length > 0 ? [`bugs=${bugs.join(',')}`] : []),
  ].join(' ');
}
