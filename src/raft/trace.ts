// What the driver tells a trace sink, for checking Raft's invariants from outside (a test hook,
// off unless a sink is given: the CLI makes one only when TSTAN_RAFT_TRACE names a file, see
// src/cli/test-hooks.ts). A chaos harness reads every node's events and checks one leader per
// term, log matching, and that term, vote and commit never go back, across restarts too.
// `persisted` is recorded once the write is durable and before the messages that depend on it
// leave (fsynced if `mustSync` and the storage syncs at all); `lead` is the first AppendEntries or heartbeat this node sent in a term.
import type { Entry, HardState } from './types.js';
import type { Role } from './raft.js';

export type RaftTraceEvent =
  | {
      readonly type: 'start';
      readonly hardState: HardState;
      readonly firstIndex: number;
      readonly lastIndex: number;
      readonly snapshotIndex: number;
      readonly rejoining: boolean;
      /** The entries past the commit index found in storage: persisted, perhaps without a trace (a kill after the write). */
      readonly uncommitted: readonly Entry[];
    }
  | { readonly type: 'role'; readonly role: Role; readonly term: number; readonly leader: string }
  | { readonly type: 'lead'; readonly term: number }
  | { readonly type: 'persisted'; readonly mustSync: boolean; readonly hardState?: HardState; readonly entries: readonly Entry[]; readonly snapshot?: { readonly index: number; readonly term: number } }
  | { readonly type: 'applied'; readonly entries: readonly Entry[] }
  | { readonly type: 'snapshot'; readonly action: 'taken' | 'installed'; readonly index: number; readonly term: number }
  | { readonly type: 'stopped'; readonly error?: string };

export interface RaftTraceSink {
  record(event: RaftTraceEvent): void;
}
