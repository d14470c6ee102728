// Options of the Raft core. Time is in ticks; the driver decides how long a tick is (100 ms).
import type { Logger } from '../util/logger.js';
import { RaftError, RaftErrorCode } from './errors.js';

/** A seeded source of randomness, injected so that the core stays deterministic. */
export interface RandomSource {
  /** An integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number;
}

/**
 * Known bugs that can be switched on so that tests prove the simulator's checkers find them.
 * Never set in production.
 */
export interface RaftBugSwitches {
  /** Grant a vote even when this term's vote already went to another candidate. */
  readonly doubleVote?: boolean;
  /** Commit by counting replicas regardless of the entry's term (the paper's Figure 8 bug). */
  readonly commitEarlierTerm?: boolean;
  /** Send append responses at once instead of after the entries are durable. */
  readonly ackBeforeDurable?: boolean;
  /** A node in rejoin mode votes and campaigns before it has caught up (no catch-up gate). */
  readonly skipCatchUpGate?: boolean;
}

export interface RaftOptions {
  readonly id: string;
  readonly random: RandomSource;
  readonly logger?: Logger;
  /** Base election timeout; each wait is drawn from [electionTicks, 2 × electionTicks]. */
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /** Most entries in one AppendEntries. */
  readonly appendEntriesMax?: number;
  /** Most bytes of entries in one AppendEntries (at least one entry is always sent). */
  readonly appendBytesMax?: number;
  /** Most AppendEntries in flight to one follower in replicate state. */
  readonly inflightMessagesMax?: number;
  /** Most bytes of entries in flight to one follower. */
  readonly inflightBytesMax?: number;
  /** Recent durable entries kept in memory so replication rarely reads the log store. */
  readonly logCacheSize?: number;
  /**
   * The same cache's bound in bytes of entry data. An entry may be a whole batch of proposals (up
   * to proposalBytesMax), so a bound in entries alone would let large messages fill the memory.
   */
  readonly logCacheBytesMax?: number;
  /** Entries kept behind a snapshot when the log is compacted. */
  readonly trailingLogs?: number;
  /** Bytes per InstallSnapshot chunk. */
  readonly snapshotChunkBytes?: number;
  /** Ticks without progress before a snapshot chunk is sent again. */
  readonly snapshotRetryTicks?: number;
  /** Largest proposal accepted. */
  readonly proposalBytesMax?: number;
  /** Proposals beyond this many uncommitted entries are refused (back pressure). */
  readonly uncommittedEntriesMax?: number;
  /** Most committed entries handed to the application in one Ready. */
  readonly committedEntriesMax?: number;
  /**
   * Leader only: propose promoting a non-voter to voter once it has caught up (its match is
   * within promotionLagEntriesMax of the commit index), one membership change at a time.
   */
  readonly promoteNonVoters?: boolean;
  /** How far behind the commit index a non-voter may be and still be promoted (default 0). */
  readonly promotionLagEntriesMax?: number;
  readonly bugs?: RaftBugSwitches;
}

export type ResolvedRaftOptions = Required<Omit<RaftOptions, 'logger'>> & Pick<RaftOptions, 'logger'>;

export const raftDefaults = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  appendEntriesMax: 64,
  appendBytesMax: 1024 * 1024,
  inflightMessagesMax: 16,
  inflightBytesMax: 16 * 1024 * 1024,
  logCacheSize: 512,
  logCacheBytesMax: 32 * 1024 * 1024,
  trailingLogs: 10240,
  snapshotChunkBytes: 256 * 1024,
  snapshotRetryTicks: 5,
  proposalBytesMax: 8 * 1024 * 1024,
  uncommittedEntriesMax: 8192,
  committedEntriesMax: 1024,
  promoteNonVoters: false,
  promotionLagEntriesMax: 0,
} as const;

const positiveKeys = [
  'electionTicks',
  'heartbeatTicks',
  'appendEntriesMax',
  'appendBytesMax',
  'inflightMessagesMax',
  'inflightBytesMax',
  'logCacheBytesMax',
  'snapshotChunkBytes',
  'snapshotRetryTicks',
  'proposalBytesMax',
  'uncommittedEntriesMax',
  'committedEntriesMax',
] as const;

export function resolveRaftOptions(options: RaftOptions): ResolvedRaftOptions {
  const resolved: ResolvedRaftOptions = {
    ...raftDefaults,
    bugs: {},
    ...stripUndefined(options),
    id: options.id,
    random: options.random,
  };
  if (!/^[A-Za-z0-9_-]+$/.test(resolved.id)) {
    throw new RaftError(RaftErrorCode.BadOptions, `raft node id ${JSON.stringify(resolved.id)} must be letters, digits, - or _`);
  }
  for (const key of positiveKeys) {
    const value = resolved[key];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RaftError(RaftErrorCode.BadOptions, `raft option ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  for (const key of ['logCacheSize', 'trailingLogs', 'promotionLagEntriesMax'] as const) {
    if (!Number.isSafeInteger(resolved[key]) || resolved[key] < 0) {
      throw new RaftError(RaftErrorCode.BadOptions, `raft option ${key} must be a non-negative integer`);
    }
  }
  if (resolved.heartbeatTicks >= resolved.electionTicks) {
    throw new RaftError(RaftErrorCode.BadOptions, 'raft option heartbeatTicks must be below electionTicks');
  }
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) (out as Record<string, unknown>)[key] = item;
  }
  return out;
}
