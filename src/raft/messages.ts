// Raft messages: one discriminated union with a `type` field. The core produces and consumes
// these; a transport carries them between nodes and must deliver each one whole or not at all.
import type { Entry } from './types.js';

/** Which nodes vote and which only receive the log. Node IDs are strings. */
export interface ClusterConfig {
  readonly voters: readonly string[];
  readonly nonVoters: readonly string[];
}

/** Where a snapshot sits in the log and the membership it carries. */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly config: ClusterConfig;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly term: number;
}

/** PreVote (thesis §9.6): would you vote for me at `term` (my current term + 1)? Changes nothing. */
export interface PreVoteMessage extends Envelope {
  readonly type: 'preVote';
  readonly lastIndex: number;
  readonly lastTerm: number;
}

export interface PreVoteResponseMessage extends Envelope {
  readonly type: 'preVoteResponse';
  readonly reject: boolean;
}

export interface VoteMessage extends Envelope {
  readonly type: 'vote';
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Set by a leadership transfer target: voters ignore their leader lease for it. */
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends Envelope {
  readonly type: 'voteResponse';
  readonly reject: boolean;
}

export interface AppendMessage extends Envelope {
  readonly type: 'append';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendResponseMessage extends Envelope {
  readonly type: 'appendResponse';
  /** Accepted: the last index now matching the leader. Rejected: the prevIndex refused. */
  readonly index: number;
  readonly reject: boolean;
  /** On reject: the largest index at or below `index` whose term is at most `hintTerm`. */
  readonly hintIndex: number;
  readonly hintTerm: number;
}

export interface HeartbeatMessage extends Envelope {
  readonly type: 'heartbeat';
  /** min(the follower's match, leader commit): safe for the follower to commit. */
  readonly commit: number;
}

export interface HeartbeatResponseMessage extends Envelope {
  readonly type: 'heartbeatResponse';
}

/** One chunk of a snapshot: the paper's InstallSnapshot RPC (offset, data, done). */
export interface InstallSnapshotMessage extends Envelope {
  readonly type: 'installSnapshot';
  readonly meta: SnapshotMeta;
  readonly offset: number;
  readonly totalBytes: number;
  readonly data: Uint8Array;
  readonly done: boolean;
}

export interface InstallSnapshotResponseMessage extends Envelope {
  readonly type: 'installSnapshotResponse';
  readonly snapshotIndex: number;
  /** The byte offset the follower expects next (0 after a rejection restarts the transfer). */
  readonly nextOffset: number;
}

/** Leadership transfer: the leader tells an up-to-date target to campaign at once. */
export interface TimeoutNowMessage extends Envelope {
  readonly type: 'timeoutNow';
}

export type Message =
  | PreVoteMessage
  | PreVoteResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | AppendMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | InstallSnapshotMessage
  | InstallSnapshotResponseMessage
  | TimeoutNowMessage;

export type MessageType = Message['type'];

/**
 * Messages that promise something about durable state (a vote, an appended entry, an installed
 * snapshot) may leave only after the Ready that produced them is persisted.
 */
export function needsPersistBeforeSend(message: Message): boolean {
  switch (message.type) {
    case 'vote':
    case 'voteResponse':
    case 'appendResponse':
    case 'installSnapshotResponse':
    case 'heartbeatResponse':
      return true;
    case 'preVote':
    case 'preVoteResponse':
    case 'append':
    case 'heartbeat':
    case 'installSnapshot':
    case 'timeoutNow':
      return false;
  }
}

/** Bytes an entry counts for in batch and in-flight limits. */
export function entryBytes(entry: Entry): number {
  return entry.data.byteLength + 24;
}
