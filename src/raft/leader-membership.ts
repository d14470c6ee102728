// The leader's side of membership, one server at a time (thesis ch. 4): propose a change only when
// none is pending and an entry of the leader's own term is committed (Ongaro, raft-dev 2015);
// promote a non-voter once it has caught up (thesis §4.2.1), automatically if asked to; step
// down once our own removal commits (§4.2.2); and hand leadership over on request (§3.10).
import type { Raft } from './raft.js';
import type { ConfigChange } from './membership.js';
import type { ClusterConfig } from './messages.js';
import { Role } from './raft.js';
import { EntryType } from './types.js';
import { applyConfigChange, encodeConfig } from './membership.js';
import { NotLeaderError, RaftError, RaftErrorCode } from './errors.js';
import { sendAppend } from './leader.js';

function requireLeader(r: Raft): void {
  if (r.role !== Role.Leader) throw new NotLeaderError(r.leader, `node ${r.id} is not the leader (leader: ${r.leader || 'unknown'})`);
}

/** Thesis §4.2.2: a leader removed from the configuration steps down once the removal commits. */
export function stepDownRemoved(r: Raft): void {
  r.options.logger?.info({ id: r.id, term: r.term }, 'raft: removed leader steps down');
  let best = '';
  for (const id of r.configs.current().voters) {
    const match = r.progress.get(id)?.match ?? 0;
    if (match === r.log.lastIndex() && best === '') best = id;
  }
  for (const id of r.progress.keys()) if (id !== r.id) sendAppend(r, id, true);
  // Hand over at once rather than leave the cluster waiting an election timeout.
  if (best !== '') r.send({ type: 'timeoutNow', to: best, term: r.term });
  r.becomeFollower(r.term, '');
}

export function transferLeadership(r: Raft, target: string): void {
  requireLeader(r);
  if (target === r.id) return;
  if (!r.configs.current().voters.includes(target)) {
    throw new RaftError(RaftErrorCode.BadTransfer, `cannot transfer leadership to ${target}: not a voter`);
  }
  r.transferee = target;
  r.electionElapsed = 0;
  const progress = r.progress.get(target);
  if (progress && progress.match === r.log.lastIndex()) r.send({ type: 'timeoutNow', to: target, term: r.term });
  else sendAppend(r, target, true);
}

/** Why no membership change may be proposed now, or undefined if one may. */
function changeBlocked(r: Raft): string | undefined {
  if (r.log.term(r.log.committed) !== r.term) return 'the new leader has not committed an entry of its term yet';
  if (r.configs.latestIndex() > r.log.committed) return 'a membership change is still uncommitted';
  return undefined;
}

/**
 * Propose a one-server membership change; returns the index of its entry. A promotion needs the
 * non-voter within `lagEntriesMax` of the commit index (0: it holds everything committed), so
 * that as a voter it does not stall commitment.
 */
export function proposeConfigChange(r: Raft, change: ConfigChange, lagEntriesMax = 0): number {
  requireLeader(r);
  const blocked = changeBlocked(r);
  if (blocked !== undefined) throw new RaftError(RaftErrorCode.ConfigChangePending, blocked);
  const current = r.configs.current();
  if (change.type === 'addVoter') {
    if (!current.nonVoters.includes(change.node)) {
      throw new RaftError(RaftErrorCode.BadConfigChange, `node ${change.node} must join as a non-voter first`);
    }
    const match = r.progress.get(change.node)?.match ?? 0;
    if (match + lagEntriesMax < r.log.committed) {
      throw new RaftError(RaftErrorCode.NotCaughtUp, `node ${change.node} is at ${match}, the commit index at ${r.log.committed}`);
    }
  }
  const config = applyConfigChange(current, change);
  return r.propose({ type: EntryType.ConfigChange, data: encodeConfig(config) });
}

/** With promoteNonVoters: propose promoting the first non-voter that has caught up, if any. */
export function maybePromoteNonVoter(r: Raft): void {
  if (r.role !== Role.Leader || r.transferee !== '' || changeBlocked(r) !== undefined) return;
  const lagMax = r.options.promotionLagEntriesMax;
  for (const node of r.configs.current().nonVoters) {
    const match = r.progress.get(node)?.match ?? 0;
    if (match === 0 || match + lagMax < r.log.committed) continue;
    try {
      const index = proposeConfigChange(r, { type: 'addVoter', node }, lagMax);
      r.options.logger?.info({ id: r.id, node, index, match }, 'raft: promoting a caught-up non-voter');
    } catch (error) {
      // Back pressure refuses it now; the next tick tries again.
      if (!(error instanceof RaftError)) throw error;
    }
    return;
  }
}

/** The voter other than `self` whose log matches the leader's furthest (never a non-voter). */
export function mostUpToDateVoter(status: { readonly config: ClusterConfig; readonly progress: ReadonlyMap<string, { readonly match: number }> }, self: string): string | undefined {
  let target: string | undefined;
  let targetMatch = -1;
  for (const voter of status.config.voters) {
    const match = status.progress.get(voter)?.match ?? -1;
    if (voter !== self && match > targetMatch) {
      target = voter;
      targetMatch = match;
    }
  }
  return target;
}
