// Operating errors of the Raft core and its driver, each with a stable code callers branch on.
// Proposal errors also say what is KNOWN about the proposal's fate, because a client may be told
// "failed" only for what is known not to be committed (see proposalOutcome).
import { TstanError } from '../util/errors.js';

export const RaftErrorCode = {
  NotLeader: 'RAFT_NOT_LEADER',
  /** Refused before it was appended: too large, back pressure, a transfer under way, stopped. */
  ProposalRefused: 'RAFT_PROPOSAL_REFUSED',
  /** Known not committed: another entry was applied at its index. */
  ProposalDropped: 'RAFT_PROPOSAL_DROPPED',
  /** Appended, fate unknown: it may or may not be (or become) committed. */
  ProposalUnknown: 'RAFT_PROPOSAL_UNKNOWN',
  ConfigChangePending: 'RAFT_CONFIG_CHANGE_PENDING',
  BadConfigChange: 'RAFT_BAD_CONFIG_CHANGE',
  UnknownNode: 'RAFT_UNKNOWN_NODE',
  NotCaughtUp: 'RAFT_NOT_CAUGHT_UP',
  BadMessage: 'RAFT_BAD_MESSAGE',
  BadOptions: 'RAFT_BAD_OPTIONS',
  BadSnapshot: 'RAFT_BAD_SNAPSHOT',
  ReadyMisuse: 'RAFT_READY_MISUSE',
  BadTransfer: 'RAFT_BAD_TRANSFER',
  /** The driver is stopped (or halted on an error); `cause` holds the error if any. */
  Stopped: 'RAFT_STOPPED',
  /** The state machine broke its contract (e.g. apply returned the wrong number of results). */
  StateMachineContract: 'RAFT_STATE_MACHINE_CONTRACT',
} as const;
export type RaftErrorCode = (typeof RaftErrorCode)[keyof typeof RaftErrorCode];

export class RaftError extends TstanError {
  constructor(code: RaftErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'RaftError';
  }
}

/** This node does not lead; `leader` is the one it follows ('' when it knows none). */
export class NotLeaderError extends RaftError {
  constructor(
    readonly leader: string,
    message: string,
  ) {
    super(RaftErrorCode.NotLeader, message);
    this.name = 'NotLeaderError';
  }
}

export const RefusalReason = {
  TooLarge: 'tooLarge',
  BackPressure: 'backPressure',
  TransferInProgress: 'transferInProgress',
  Stopped: 'stopped',
} as const;
export type RefusalReason = (typeof RefusalReason)[keyof typeof RefusalReason];

/** Refused before it was appended to any log: known not committed, safe to report as failed. */
export class ProposalRefusedError extends RaftError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(RaftErrorCode.ProposalRefused, message, options);
    this.name = 'ProposalRefusedError';
  }
}

/**
 * What a proposal's error says about its fate:
 * - `refused`: never appended (not leader, refused, membership change refused): not committed;
 * - `dropped`: appended, and known never to commit: another entry was applied at its index;
 * - `unknown`: appended, fate unknown (leadership lost, node stopped, a snapshot replaced it).
 * Anything else (not a Raft proposal error) is `unknown` too: a client must not be told "failed".
 */
export type ProposalOutcome = 'refused' | 'dropped' | 'unknown';

export function proposalOutcome(error: unknown): ProposalOutcome {
  switch ((error as { code?: unknown } | null)?.code) {
    case RaftErrorCode.NotLeader:
    case RaftErrorCode.ProposalRefused:
    case RaftErrorCode.ConfigChangePending:
    case RaftErrorCode.BadConfigChange:
    case RaftErrorCode.UnknownNode:
    case RaftErrorCode.NotCaughtUp:
      return 'refused';
    case RaftErrorCode.ProposalDropped:
      return 'dropped';
    default:
      return 'unknown';
  }
}
