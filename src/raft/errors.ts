// Operating errors of the Raft core, each with a stable code callers branch on.
import { TstanError } from '../util/errors.js';

export const RaftErrorCode = {
  NotLeader: 'RAFT_NOT_LEADER',
  TransferInProgress: 'RAFT_TRANSFER_IN_PROGRESS',
  ConfigChangePending: 'RAFT_CONFIG_CHANGE_PENDING',
  BadConfigChange: 'RAFT_BAD_CONFIG_CHANGE',
  NotCaughtUp: 'RAFT_NOT_CAUGHT_UP',
  ProposalTooLarge: 'RAFT_PROPOSAL_TOO_LARGE',
  ProposalDropped: 'RAFT_PROPOSAL_DROPPED',
  BadMessage: 'RAFT_BAD_MESSAGE',
  BadOptions: 'RAFT_BAD_OPTIONS',
  BadSnapshot: 'RAFT_BAD_SNAPSHOT',
  ReadyMisuse: 'RAFT_READY_MISUSE',
  BadTransfer: 'RAFT_BAD_TRANSFER',
} as const;
export type RaftErrorCode = (typeof RaftErrorCode)[keyof typeof RaftErrorCode];

export class RaftError extends TstanError {
  constructor(code: RaftErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'RaftError';
  }
}
