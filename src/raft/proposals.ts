// Proposals this node made as leader and still waits on, by log index. Each is settled with what
// is KNOWN about it, because a client may be told "failed" only for what is known not to be
// committed:
// - applied here with the term it was proposed in: resolved, with the state machine's result;
// - another entry applied (or committed) at its index: RAFT_PROPOSAL_DROPPED;
// - fate unknown (leadership lost before it committed, a snapshot replaced it, the node
//   stopped): RAFT_PROPOSAL_UNKNOWN. It may still commit, on this node's log or another's.
// Not "cut from our log while we lead again": a node that lost an entry may lead again while a
// peer still holds that entry, and that peer may later win an election and commit it. So
// leadership lost settles at once what is not known committed, and a proposal of an earlier
// term never waits at an index a later proposal takes.
import type { Entry } from './types.js';
import type { ConfigChangeResult, ProposalResult } from './driver-types.js';
import { EntryType } from './types.js';
import { decodeConfig } from './membership.js';
import { RaftError, RaftErrorCode } from './errors.js';
import { assert } from '../util/assert.js';

/** What the log says about the entry a proposal of `term` put at `index`. */
export type ProposalFate = 'committed' | 'dropped' | 'unknown';

/** What the proposals need to know of the core (a RaftNode). */
export interface LeadershipView {
  readonly role: string;
  readonly term: number;
  readonly commit: number;
  termAt(index: number): number | undefined;
}

export function fateOf(node: LeadershipView, index: number, term: number): ProposalFate {
  if (index > node.commit) return 'unknown';
  const committedTerm = node.termAt(index);
  if (committedTerm === term) return 'committed';
  return committedTerm === undefined ? 'unknown' : 'dropped';
}

type Settled = ProposalResult<unknown> | ConfigChangeResult;

interface Pending {
  readonly term: number;
  readonly kind: 'normal' | 'config';
  readonly resolve: (value: Settled) => void;
  readonly reject: (error: Error) => void;
}

export function droppedError(index: number): RaftError {
  return new RaftError(RaftErrorCode.ProposalDropped, `proposal at ${index} was not committed: another entry was committed there`);
}

export function unknownError(index: number, why: string, cause?: unknown): RaftError {
  return new RaftError(RaftErrorCode.ProposalUnknown, `proposal at ${index} may or may not commit: ${why}`, { cause });
}

/** Not generic over the result type, so that a RaftDriver<R> is a RaftDriver<unknown> too. */
export class PendingProposals {
  private readonly byIndex = new Map<number, Pending>();
  /** The term this node leads (and the pending proposals were made in), or -1. */
  private leaderTerm = -1;
  committed = 0;

  get size(): number {
    return this.byIndex.size;
  }

  /** A proposal of a Normal entry; it resolves with the state machine's result for it. */
  add<R>(index: number, term: number): Promise<ProposalResult<R>> {
    return this.wait(index, term, 'normal') as Promise<ProposalResult<R>>;
  }

  addConfigChange(index: number, term: number): Promise<ConfigChangeResult> {
    return this.wait(index, term, 'config') as Promise<ConfigChangeResult>;
  }

  private wait(index: number, term: number, kind: 'normal' | 'config'): Promise<Settled> {
    assert(!this.byIndex.has(index), `a proposal already waits at ${index}`);
    return new Promise<Settled>((resolve, reject) => this.byIndex.set(index, { term, kind, resolve, reject }));
  }

  /** `entries` were applied here, with one state machine result each. */
  applied(entries: readonly Entry[], results: readonly unknown[]): void {
    if (this.byIndex.size === 0) return;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const proposal = this.byIndex.get(entry.index);
      if (proposal === undefined) continue;
      this.byIndex.delete(entry.index);
      if (proposal.term !== entry.term) {
        proposal.reject(droppedError(entry.index));
      } else if (proposal.kind === 'config' && entry.type === EntryType.ConfigChange) {
        proposal.resolve({ index: entry.index, config: decodeConfig(entry.data) });
      } else {
        this.committed++;
        proposal.resolve({ index: entry.index, result: results[i] });
      }
    }
  }

  /**
   * Call before proposing and before each Ready. When this node no longer leads the term its
   * proposals were made in, those known committed stay (they will be applied here); the rest
   * are settled now, as dropped or of unknown fate.
   */
  syncLeadership(node: LeadershipView): void {
    const term = node.role === 'leader' ? node.term : -1;
    if (term === this.leaderTerm) return;
    this.leaderTerm = term;
    for (const [index, proposal] of this.byIndex) {
      if (proposal.term === term) continue;
      const fate = fateOf(node, index, proposal.term);
      if (fate === 'committed') continue;
      this.byIndex.delete(index);
      proposal.reject(fate === 'dropped' ? droppedError(index) : unknownError(index, 'leadership was lost before it committed'));
    }
  }

  /** A snapshot from the leader replaced the log up to `index`: those will not be applied here. */
  snapshotRestored(index: number): void {
    for (const [at, proposal] of this.byIndex) {
      if (at > index) continue;
      this.byIndex.delete(at);
      proposal.reject(unknownError(at, `a snapshot at ${index} replaced it before it was applied here`));
    }
  }

  /** The node stopped: nothing more will be learnt here about any of them. */
  stopped(cause: unknown): void {
    for (const [index, proposal] of this.byIndex) proposal.reject(unknownError(index, 'the node stopped', cause));
    this.byIndex.clear();
  }
}
