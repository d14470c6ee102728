// The simulated operator's membership changes, one server at a time: remove a voter (the
// leader included), re-add a removed node as a non-voter, promote it once it has caught up
// (unless the leader promotes by itself). No removal while a node is catching up after a wiped
// disk: it cannot vote yet, and the voters left must still be able to elect a leader.
import type { SimNode } from './sim-node.js';
import type { Rng } from './rng.js';

const votersMin = 2;

/** Ask the leader for the next change; returns a description, or undefined if none was made. */
export interface OperatorPolicy {
  readonly promote: boolean;
  readonly remove: boolean;
}

export function applyMembershipStep(leader: SimNode, ids: readonly string[], rng: Rng, policy: OperatorPolicy): string | undefined {
  const config = leader.raft.status().config;
  const outside = ids.filter((id) => !config.voters.includes(id) && !config.nonVoters.includes(id));
  try {
    const nonVoter = config.nonVoters[0];
    if (nonVoter !== undefined) {
      if (!policy.promote) return undefined;
      leader.raft.proposeConfigChange({ type: 'addVoter', node: nonVoter });
      leader.drive();
      return `promote ${nonVoter} via ${leader.id}`;
    }
    const joiner = outside[0];
    if (joiner !== undefined && (config.voters.length <= votersMin || rng.chance(0.6))) {
      leader.raft.proposeConfigChange({ type: 'addNonVoter', node: joiner });
      leader.drive();
      return `add non-voter ${joiner} via ${leader.id}`;
    }
    if (config.voters.length > votersMin && policy.remove) {
      const victim = rng.pick(config.voters);
      leader.raft.proposeConfigChange({ type: 'remove', node: victim });
      leader.drive();
      return `remove ${victim} via ${leader.id}`;
    }
  } catch (error) {
    if (!(error as { code?: string }).code?.startsWith('RAFT_')) throw error;
  }
  return undefined;
}
